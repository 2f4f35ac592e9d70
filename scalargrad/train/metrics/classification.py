"""Classification metrics: accuracy, macro F1 and the confusion matrix, all from one table of counts.

An output that does not say which class it predicts is never a correct
prediction: a sample is *undefined* when any of its outputs is nan, or
when its largest output is infinite and shared by several outputs
(``[inf, inf]``, ``[-inf, -inf]``: no class is ahead). torch's argmax
would name a class for these (the index of the nan, or the first of the
tie), so a diverged model whose outputs are all nan would score as if it
always predicted class 0; here such a sample counts as wrong for accuracy,
as a missed sample of its class for F1 (a false negative, no class's false
positive), and in ``ConfusionMatrix.undefined`` rather than in a column.
Ties between finite values are decided as in torch: the first wins.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from ..._util.checks import integer, number
from ..values import class_id, output_values, paired_batch
from .base import Metric

__all__ = ["AccuracyMetric", "ConfusionMatrix", "F1Metric"]


class _ClassCounts:
    """(target, prediction) counts shared by accuracy, F1 and the confusion matrix.

    A sample with several outputs predicts the argmax (first on ties); a
    sample with one output is binary: with 0/1 targets it predicts 1 when
    the output is above 0.5, with -1/+1 targets when it is above 0 (an
    explicit ``threshold`` replaces both). Which of the two applies is
    decided from all targets seen (any -1 means -1/+1), so single-output
    counts are kept under both rules until ``resolve``. An undefined
    prediction (see the module's docstring) is counted under the class
    ``None``.
    """

    __slots__ = ("binary", "multi", "threshold", "width")

    def __init__(self, threshold: float | None) -> None:
        self.threshold = None if threshold is None else number(threshold, "threshold")
        self.reset()

    def reset(self) -> None:
        """Forget every count."""
        self.multi: dict[tuple[int, int], int] = {}
        self.binary: dict[tuple[int, bool, bool], int] = {}
        self.width = 0

    def update(self, outputs: Any, targets: Any, who: str) -> None:
        """Count one batch's (target, prediction) pairs; ``who`` names the metric in errors."""
        outputs, targets = paired_batch(outputs, targets, who)
        multi, binary = self.multi, self.binary
        # the cut-off for 0/1 targets and the one for -1/+1 targets (one explicit threshold serves both)
        cut_01, cut_plus_minus = (0.5, 0.0) if self.threshold is None else (self.threshold, self.threshold)
        for o, t in zip(outputs, targets):
            v = output_values(o, who)
            c = class_id(t, who)
            if len(v) == 1:
                if c not in (-1, 0, 1):
                    raise ValueError(f"{who}: a single output is a binary prediction, so targets must be "
                                     f"0/1 or -1/+1, got {c}")
                x = v[0]
                key = (c, None, None) if math.isnan(x) else (c, x > cut_01, x > cut_plus_minus)
                binary[key] = binary.get(key, 0) + 1
            elif v:
                if not 0 <= c < len(v):
                    raise ValueError(f"{who}: class id {c} is out of range for an output of {len(v)} values")
                pair = (c, _predicted_class(v))
                multi[pair] = multi.get(pair, 0) + 1
                self.width = max(self.width, len(v))
            else:
                raise ValueError(f"{who}: got an empty output")

    def resolve(self, who: str) -> tuple[dict[tuple[int, int], int], list[int]]:
        """The (target, prediction) -> count table and the natural label list."""
        if self.multi and self.binary:
            raise ValueError(f"{who}: got both single-output (binary) and multi-output samples")
        if self.multi:
            return dict(self.multi), list(range(self.width))
        if not self.binary:
            raise ValueError(f"{who}: no samples yet; call update() first")
        targets = {key[0] for key in self.binary}
        if -1 in targets and 0 in targets:
            raise ValueError(f"{who}: binary targets mix 0 and -1; use 0/1 or -1/+1")
        plus_minus = -1 in targets
        negative = -1 if plus_minus else 0
        pairs: dict[tuple[int, int], int] = {}
        for (t, above_01, above_plus_minus), n in self.binary.items():
            above = above_plus_minus if plus_minus else above_01
            pair = (t, None if above is None else 1 if above else negative)
            pairs[pair] = pairs.get(pair, 0) + n
        return pairs, [negative, 1]


def _predicted_class(values: list[float]) -> int | None:
    """The argmax of ``values`` (the first on ties), or None when it is undefined (a nan, or a tie at
    +-inf)."""
    top = max(values)
    if math.isnan(top) or any(math.isnan(x) for x in values):  # max() may or may not return a nan it meets
        return None
    if math.isinf(top) and values.count(top) > 1:
        return None
    return values.index(top)


class _ClassMetric(Metric):
    """A metric computed from the (target, prediction) counts."""

    def __init__(self, threshold: float | None = None) -> None:
        self._counts = _ClassCounts(threshold)

    def reset(self) -> None:
        """Forget every sample seen."""
        self._counts.reset()

    def update(self, outputs: Sequence[Any], targets: Sequence[Any]) -> None:
        """Add a batch: one output and one class target per sample."""
        self._counts.update(outputs, targets, type(self).__name__)

    def _pairs(self) -> tuple[dict[tuple[int, int], int], list[int]]:
        return self._counts.resolve(type(self).__name__)

    def __repr__(self) -> str:
        thr = self._counts.threshold
        return f"{type(self).__name__}()" if thr is None else f"{type(self).__name__}(threshold={thr})"


class AccuracyMetric(_ClassMetric):
    """Fraction of samples whose predicted class is the target class.

    Several outputs per sample: the prediction is the argmax (logits or
    probabilities) and targets are class ids. One output per sample: a binary
    prediction, 1 when the output is above 0.5 for 0/1 targets or above 0
    for -1/+1 targets (``threshold=`` sets your own, e.g. 0.0 for logits with
    0/1 targets).

    A sample whose prediction is undefined (a nan output, or a tie at
    +-inf; see the module's docstring) is counted as wrong, so a model whose
    outputs have all gone nan scores 0.

    >>> AccuracyMetric()([[0.1, 2.0], [3.0, -1.0], [0.0, 1.0]], [1, 0, 0])
    0.6666666666666666
    >>> AccuracyMetric()([0.9, 0.2, 0.7], [1, 0, 0])   # sigmoid outputs, 0/1 targets
    0.6666666666666666
    """

    name = "accuracy"
    NAME = "Accuracy"  # the original scalargrad's API
    higher_is_better = True

    def compute(self) -> float:
        """Correct predictions / samples."""
        pairs, _ = self._pairs()
        total = sum(pairs.values())
        return sum(n for (t, p), n in pairs.items() if t == p) / total


class F1Metric(_ClassMetric):
    """Macro-averaged F1: the F1 score of each class, averaged with equal weight.

    The classes are those that appear as a target or a prediction (as
    scikit-learn's default); a class with no true positives scores 0.
    Predictions are made as in ``AccuracyMetric``; a sample whose prediction
    is undefined (a nan output, or a tie at +-inf) is a false negative of
    its true class and no class's false positive.

    >>> F1Metric()([[1.0, 0.0], [0.0, 1.0], [0.0, 1.0]], [0, 1, 0])
    0.6666666666666666
    """

    name = "f1"
    higher_is_better = True

    def compute(self) -> float:
        """Mean over classes of 2 tp / (2 tp + fp + fn)."""
        pairs, _ = self._pairs()
        classes = sorted({t for t, _ in pairs} | {p for _, p in pairs if p is not None})
        tp = dict.fromkeys(classes, 0)
        true = dict.fromkeys(classes, 0)
        pred = dict.fromkeys(classes, 0)
        for (t, p), n in pairs.items():
            true[t] += n
            if p is not None:  # an undefined prediction is nobody's false positive
                pred[p] += n
            if t == p:
                tp[t] += n
        scores = []
        for c in classes:
            denominator = true[c] + pred[c]  # = 2 tp + fp + fn
            scores.append(2 * tp[c] / denominator if denominator else 0.0)
        return sum(scores) / len(scores)


class ConfusionMatrix(_ClassMetric):
    """Counts of (true class, predicted class): ``compute()[i][j]`` = samples of class i predicted as j.

    Rows and columns are the classes ``0 .. k-1`` for outputs of k values
    (``num_classes=`` fixes k), or ``[0, 1]`` / ``[-1, 1]`` for single
    binary outputs; ``labels`` holds that order after ``compute()``.
    Samples whose prediction is undefined (a nan output, or a tie at
    +-inf) are in no column: ``undefined[i]`` counts those of class
    ``labels[i]`` after ``compute()``, so each row plus its ``undefined``
    entry adds up to the samples of that class. A
    confusion matrix is not a single number: the Trainer passes it to the
    callbacks' logs but keeps it out of the History.

    >>> ConfusionMatrix()([[2.0, 0.0, 1.0], [0.0, 1.0, 0.5], [0.0, 3.0, 1.0]], [0, 1, 2])
    [[1, 0, 0], [0, 1, 0], [0, 1, 0]]
    """

    name = "confusion_matrix"
    higher_is_better = True
    scalar = False

    def __init__(self, num_classes: int | None = None, threshold: float | None = None) -> None:
        super().__init__(threshold)
        if num_classes is not None and integer(num_classes, "num_classes") < 2:
            raise ValueError(f"num_classes must be an int >= 2, got {num_classes!r}")
        self.num_classes = num_classes
        self.labels: list[int] = []
        self.undefined: list[int] = []

    def compute(self) -> list[list[int]]:
        """The matrix as a list of rows (true classes), one column per predicted class."""
        pairs, labels = self._pairs()
        if self.num_classes is not None and labels != [-1, 1]:
            if len(labels) > self.num_classes:
                raise ValueError(f"{type(self).__name__}: outputs have {len(labels)} values but "
                                 f"num_classes={self.num_classes}")
            labels = list(range(self.num_classes))
        self.labels = labels
        index = {c: i for i, c in enumerate(labels)}
        matrix = [[0] * len(labels) for _ in labels]
        undefined = [0] * len(labels)
        for (t, p), n in pairs.items():
            if p is None:
                undefined[index[t]] += n
            else:
                matrix[index[t]][index[p]] += n
        self.undefined = undefined
        return matrix
