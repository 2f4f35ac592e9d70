"""Training loops: ``Trainer``, ``Evaluator``, metrics, callbacks and the ``History`` of a run.

The original API keeps working unchanged::

    from scalargrad.train import Trainer, Evaluator, AccuracyMetric, split_train_val
    x_tr, y_tr, x_val, y_val = split_train_val(x, y, val_size=0.1)
    Trainer(x=x_tr, y=y_tr, model=model, loss=CrossEntropyLoss(), optimizer=SGD(model.parameters(), lr=0.1),
            batch_size=8, num_epochs=20,
            evaluator=Evaluator(x=x_val, y=y_val, model=model, metric=AccuracyMetric())).run()

and ``run()`` now returns a ``History`` (one record per epoch). Keyword
options add a ``DataLoader`` (``loader=``), an lr scheduler, callbacks
(``EarlyStopping``, ``ModelCheckpoint``, your own), a ``seed`` for
reproducible runs, a progress bar, and a checkpoint file from which
``Trainer.resume(path)`` continues an interrupted run to exactly the weights
an uninterrupted run would have reached. Ctrl-C stops training cleanly at the
next batch boundary (press it twice to abort at once).

A training step over a batch ``(xb, yb)`` is exactly::

    outputs = [model(xi) for xi in xb]
    loss = loss_fn(outputs, yb)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()

With ``Trainer(..., replay=True)`` the graph of that step is built once per
batch size over placeholder inputs and then replayed with each batch's values
(``scalargrad.replay``): the same numbers, without making new nodes.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import math
import numbers
import operator
import os
import random
import re
import signal
import sys
import threading
import time
import warnings
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, Callable, Union

from ._util.files import atomic_open
from .data import DataLoader, Dataset, split_train_val
from .nn.layers import _flatten_values
from .nn.lr_scheduler import ReduceLROnPlateau
from .nn.module import Module
from .nn.serialization import load as _load
from .nn.serialization import save as _save
from .replay import Replay
from .scalar import Scalar, no_grad

__all__ = [
    "AccuracyMetric", "Callback", "ConfusionMatrix", "EarlyStopping", "Evaluator", "F1Metric", "History",
    "LambdaCallback", "LossMetric", "MAEMetric", "MSEMetric", "Metric", "ModelCheckpoint", "R2Metric",
    "Trainer", "split_train_val",
]

Logger = Union[Callable[[str], Any], Any, None]  # a logging.Logger (anything with .info) or a callable

_CHECKPOINT_KIND = "scalargrad-trainer"
_CHECKPOINT_VERSION = 1


# ==========================================================================
# Turning model outputs and targets into numbers
# ==========================================================================

def _real(v: Any, who: str) -> float:
    if isinstance(v, Scalar):
        return v.data
    if isinstance(v, numbers.Real):  # int, float, bool, numpy numbers
        return float(v)
    raise TypeError(f"{who}: expected a number or a Scalar, got {type(v).__name__}")


def _values(o: Any, who: str) -> list[float]:
    """An output (Scalar, float, 1-element list, list of Scalars, numpy array) as a list of floats."""
    if isinstance(o, Scalar):
        return [o.data]
    if isinstance(o, (list, tuple)):
        return [v.data if isinstance(v, Scalar) else _real(v, who) for v in o]
    if hasattr(o, "tolist"):
        return _values(o.tolist(), who)
    return [_real(o, who)]


def _class_id(t: Any, who: str) -> int:
    """A class id from an int (numpy ints too), a whole float, a bool or a one-hot list."""
    if isinstance(t, Scalar):
        t = t.data
    if isinstance(t, bool):
        return int(t)
    try:
        return operator.index(t)
    except TypeError:
        pass
    if isinstance(t, numbers.Real) and float(t).is_integer():
        return int(t)
    if isinstance(t, (list, tuple)) and t:
        if len(t) == 1:
            return _class_id(t[0], who)
        v = _values(t, who)  # one-hot (or scores): the class is its argmax
        return v.index(max(v))
    raise TypeError(f"{who}: class targets must be ints (or one-hot lists), got {t!r}"[:200])


def _batch(outputs: Any, targets: Any, who: str) -> tuple[Sequence, Sequence]:
    if hasattr(targets, "tolist"):
        targets = targets.tolist()
    if hasattr(outputs, "tolist"):
        outputs = outputs.tolist()
    if not hasattr(outputs, "__len__") or not hasattr(targets, "__len__"):
        raise TypeError(f"{who} expects a list of outputs and a list of targets")
    if len(outputs) != len(targets):
        raise ValueError(f"{who} got {len(outputs)} outputs but {len(targets)} targets")
    return outputs, targets


# ==========================================================================
# Metrics
# ==========================================================================

class Metric:
    """Base class of the metrics: accumulate over batches with ``update``, read with ``compute``.

    Subclasses set ``name`` (the key in results; the Trainer's history uses
    ``'val_' + name``), ``higher_is_better`` (so EarlyStopping and
    ModelCheckpoint know which way is better) and ``scalar`` (False for
    results that are not one number, such as a confusion matrix).

    ``metric(outputs, targets)`` is ``reset()``, ``update(outputs, targets)``, ``compute()``.

    >>> class MaxError(Metric):
    ...     name, higher_is_better = 'max_error', False
    ...     def reset(self): self.worst = 0.0
    ...     def update(self, outputs, targets):
    ...         for o, t in zip(outputs, targets):
    ...             self.worst = max(self.worst, abs(float(o) - t))
    ...     def compute(self): return self.worst
    >>> MaxError()([1.0, 2.5], [1.0, 2.0])
    0.5
    """

    name: str = "metric"
    higher_is_better: bool = True
    scalar: bool = True

    def reset(self) -> None:
        """Forget everything seen so far."""
        raise NotImplementedError(f"{type(self).__name__} does not implement reset()")

    def update(self, outputs: Sequence[Any], targets: Sequence[Any]) -> None:
        """Add a batch: one model output and one target per sample."""
        raise NotImplementedError(f"{type(self).__name__} does not implement update()")

    def compute(self) -> Any:
        """The metric over every sample given to ``update`` since the last ``reset``."""
        raise NotImplementedError(f"{type(self).__name__} does not implement compute()")

    def __call__(self, outputs: Sequence[Any], targets: Sequence[Any]) -> Any:
        self.reset()
        self.update(outputs, targets)
        return self.compute()

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class _ClassCounts:
    """(target, prediction) counts shared by accuracy, F1 and the confusion matrix.

    A sample with several outputs predicts the argmax (first on ties); a
    sample with one output is binary: with 0/1 targets it predicts 1 when
    the output is above 0.5, with -1/+1 targets when it is above 0 (an
    explicit ``threshold`` replaces both). Which of the two applies is
    decided from all targets seen (any -1 means -1/+1), so single-output
    counts are kept under both rules until ``resolve``.
    """

    __slots__ = ("binary", "multi", "threshold", "width")

    def __init__(self, threshold: float | None) -> None:
        if threshold is not None:
            threshold = _real(threshold, "threshold")
        self.threshold = threshold
        self.reset()

    def reset(self) -> None:
        self.multi: dict[tuple[int, int], int] = {}
        self.binary: dict[tuple[int, bool, bool], int] = {}
        self.width = 0

    def update(self, outputs: Any, targets: Any, who: str) -> None:
        outputs, targets = _batch(outputs, targets, who)
        multi, binary = self.multi, self.binary
        thr = self.threshold
        t01, tpm = (0.5, 0.0) if thr is None else (thr, thr)
        for o, t in zip(outputs, targets):
            v = _values(o, who)
            c = _class_id(t, who)
            if len(v) == 1:
                if c not in (-1, 0, 1):
                    raise ValueError(f"{who}: a single output is a binary prediction, so targets must be "
                                     f"0/1 or -1/+1, got {c}")
                x = v[0]
                key = (c, x > t01, x > tpm)
                binary[key] = binary.get(key, 0) + 1
            elif v:
                if not 0 <= c < len(v):
                    raise ValueError(f"{who}: class id {c} is out of range for an output of {len(v)} values")
                pair = (c, v.index(max(v)))
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
        pm = -1 in targets
        negative = -1 if pm else 0
        pairs: dict[tuple[int, int], int] = {}
        for (t, above01, above_pm), n in self.binary.items():
            pair = (t, 1 if (above_pm if pm else above01) else negative)
            pairs[pair] = pairs.get(pair, 0) + n
        return pairs, [negative, 1]


class _ClassMetric(Metric):
    def __init__(self, threshold: float | None = None) -> None:
        self._counts = _ClassCounts(threshold)

    def reset(self) -> None:
        self._counts.reset()

    def update(self, outputs: Sequence[Any], targets: Sequence[Any]) -> None:
        self._counts.update(outputs, targets, type(self).__name__)

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

    >>> AccuracyMetric()([[0.1, 2.0], [3.0, -1.0], [0.0, 1.0]], [1, 0, 0])
    0.6666666666666666
    >>> AccuracyMetric()([0.9, 0.2, 0.7], [1, 0, 0])   # sigmoid outputs, 0/1 targets
    0.6666666666666666
    """

    name = "accuracy"
    NAME = "Accuracy"  # the original scalargrad's attribute
    higher_is_better = True

    def compute(self) -> float:
        """Correct predictions / samples."""
        pairs, _ = self._counts.resolve(type(self).__name__)
        total = sum(pairs.values())
        return sum(n for (t, p), n in pairs.items() if t == p) / total


class F1Metric(_ClassMetric):
    """Macro-averaged F1: the F1 score of each class, averaged with equal weight.

    The classes are those that appear as a target or a prediction (as
    scikit-learn's default); a class with no true positives scores 0.
    Predictions are made as in ``AccuracyMetric``.

    >>> F1Metric()([[1.0, 0.0], [0.0, 1.0], [0.0, 1.0]], [0, 1, 0])
    0.6666666666666666
    """

    name = "f1"
    higher_is_better = True

    def compute(self) -> float:
        """Mean over classes of 2 tp / (2 tp + fp + fn)."""
        pairs, _ = self._counts.resolve(type(self).__name__)
        classes = sorted({t for t, _ in pairs} | {p for _, p in pairs})
        tp = dict.fromkeys(classes, 0)
        true = dict.fromkeys(classes, 0)
        pred = dict.fromkeys(classes, 0)
        for (t, p), n in pairs.items():
            true[t] += n
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
    binary outputs; ``labels`` holds that order after ``compute()``. A
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
        if num_classes is not None and (isinstance(num_classes, bool) or not isinstance(num_classes, int)
                                        or num_classes < 2):
            raise ValueError(f"num_classes must be an int >= 2, got {num_classes!r}")
        self.num_classes = num_classes
        self.labels: list[int] = []

    def compute(self) -> list[list[int]]:
        """The matrix as a list of rows (true classes), one column per predicted class."""
        who = type(self).__name__
        pairs, labels = self._counts.resolve(who)
        if self.num_classes is not None and labels != [-1, 1]:
            if len(labels) > self.num_classes:
                raise ValueError(f"{who}: outputs have {len(labels)} values but num_classes={self.num_classes}")
            labels = list(range(self.num_classes))
        self.labels = labels
        index = {c: i for i, c in enumerate(labels)}
        matrix = [[0] * len(labels) for _ in labels]
        for (t, p), n in pairs.items():
            matrix[index[t]][index[p]] += n
        return matrix


class _ErrorMetric(Metric):
    higher_is_better = False

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self._sum = 0.0
        self._count = 0

    @staticmethod
    def _error(d: float) -> float:
        raise NotImplementedError

    def update(self, outputs: Sequence[Any], targets: Sequence[Any]) -> None:
        who = type(self).__name__
        outputs, targets = _batch(outputs, targets, who)
        err, total, count = self._error, 0.0, 0
        for o, t in zip(outputs, targets):
            v, tv = _values(o, who), _values(t, who)
            if len(v) != len(tv):
                raise ValueError(f"{who}: an output has {len(v)} values but its target has {len(tv)}")
            for a, b in zip(v, tv):
                total += err(a - b)
            count += len(v)
        self._sum += total
        self._count += count

    def compute(self) -> float:
        """The mean error over every output value seen."""
        if not self._count:
            raise ValueError(f"{type(self).__name__}: no samples yet; call update() first")
        return self._sum / self._count


class MSEMetric(_ErrorMetric):
    """Mean squared error between outputs and float targets (vector outputs: over every value).

    >>> MSEMetric()([[1.0], [2.0]], [0.0, 4.0])
    2.5
    """

    name = "mse"
    NAME = "MSE"  # the original scalargrad's attribute

    @staticmethod
    def _error(d: float) -> float:
        return d * d


class MAEMetric(_ErrorMetric):
    """Mean absolute error between outputs and float targets.

    >>> MAEMetric()([1.0, 2.0], [0.0, 4.0])
    1.5
    """

    name = "mae"

    @staticmethod
    def _error(d: float) -> float:
        return abs(d)


class R2Metric(Metric):
    """Coefficient of determination, 1 - SS_res / SS_tot (vector outputs: averaged over outputs).

    As scikit-learn: constant targets give 1.0 for a perfect fit and 0.0
    otherwise; fewer than two samples give nan.

    >>> R2Metric()([1.0, 2.0, 3.0], [1.0, 2.0, 4.0])
    0.7857142857142857
    """

    name = "r2"
    higher_is_better = True

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self._n = 0
        self._mean: list[float] = []
        self._m2: list[float] = []
        self._ss_res: list[float] = []

    def update(self, outputs: Sequence[Any], targets: Sequence[Any]) -> None:
        who = type(self).__name__
        outputs, targets = _batch(outputs, targets, who)
        for o, t in zip(outputs, targets):
            v, tv = _values(o, who), _values(t, who)
            if len(v) != len(tv):
                raise ValueError(f"{who}: an output has {len(v)} values but its target has {len(tv)}")
            if not self._mean:
                width = len(tv)
                self._mean, self._m2, self._ss_res = [0.0] * width, [0.0] * width, [0.0] * width
            elif len(tv) != len(self._mean):
                raise ValueError(f"{who}: targets have {len(self._mean)} values, then {len(tv)}")
            self._n += 1
            n, mean, m2, ss_res = self._n, self._mean, self._m2, self._ss_res
            for j, (a, b) in enumerate(zip(v, tv)):
                d = b - mean[j]  # Welford: the target variance without a second pass
                mean[j] += d / n
                m2[j] += d * (b - mean[j])
                r = a - b
                ss_res[j] += r * r

    def compute(self) -> float:
        """Mean over outputs of 1 - SS_res / SS_tot."""
        if self._n == 0:
            raise ValueError("R2Metric: no samples yet; call update() first")
        if self._n < 2:
            return math.nan
        scores = [1.0 - res / tot if tot > 0.0 else (1.0 if res == 0.0 else 0.0)
                  for res, tot in zip(self._ss_res, self._m2)]
        return sum(scores) / len(scores)


class LossMetric(Metric):
    """A loss function as a metric: its mean over all samples (e.g. the validation loss).

    With ``Evaluator(..., metric=[LossMetric(CrossEntropyLoss()), AccuracyMetric()])``
    the Trainer records ``val_loss`` and ``val_accuracy``.

    >>> from scalargrad.nn import MSELoss
    >>> LossMetric(MSELoss())([[1.0], [2.0]], [0.0, 4.0])
    2.5
    """

    higher_is_better = False

    def __init__(self, loss_fn: Callable[[list, list], Any], name: str = "loss") -> None:
        if not callable(loss_fn):
            raise TypeError(f"LossMetric needs a callable loss, got {type(loss_fn).__name__}")
        if not isinstance(name, str) or not name:
            raise ValueError(f"name must be a non-empty str, got {name!r}")
        self.loss_fn = loss_fn
        self.name = name
        self.reset()

    def reset(self) -> None:
        self._sum = 0.0
        self._count = 0

    def update(self, outputs: Sequence[Any], targets: Sequence[Any]) -> None:
        outputs, targets = _batch(outputs, targets, "LossMetric")
        if not len(outputs):
            return
        value = self.loss_fn(list(outputs), list(targets))
        reduction = getattr(self.loss_fn, "reduction", "mean")
        if isinstance(value, (list, tuple)):  # reduction='none'
            self._sum += sum(_real(v, "LossMetric") for v in value)
        elif reduction == "sum":
            self._sum += _real(value, "LossMetric")
        else:
            self._sum += _real(value, "LossMetric") * len(outputs)
        self._count += len(outputs)

    def compute(self) -> float:
        """The loss averaged over every sample seen."""
        if not self._count:
            raise ValueError("LossMetric: no samples yet; call update() first")
        return self._sum / self._count

    def __repr__(self) -> str:
        return f"LossMetric({self.loss_fn!r}, name={self.name!r})"


def _metric_name(metric: Any) -> str:
    name = getattr(metric, "name", None)
    if isinstance(name, str) and name:
        return name
    legacy = getattr(metric, "NAME", None)  # the original scalargrad's metrics
    if isinstance(legacy, str) and legacy:
        return legacy.lower()
    return getattr(metric, "__name__", type(metric).__name__).lower()


def _streaming(metric: Any) -> bool:
    return all(callable(getattr(metric, m, None)) for m in ("reset", "update", "compute"))


# ==========================================================================
# Evaluator
# ==========================================================================

def _as_samples(values: Any, what: str) -> list:
    if values is None:
        raise TypeError(f"{what}= is required")
    if hasattr(values, "tolist"):
        return values.tolist()
    if isinstance(values, (str, bytes)) or not hasattr(values, "__len__"):
        raise TypeError(f"{what} must be a list (or numpy array), got {type(values).__name__}")
    return values if isinstance(values, list) else list(values)


def _check_pair(x: Any, y: Any, who: str) -> tuple[list, list]:
    x, y = _as_samples(x, "x"), _as_samples(y, "y")
    if len(x) != len(y):
        raise ValueError(f"{who}: x has {len(x)} samples but y has {len(y)} targets")
    if not x:
        raise ValueError(f"{who}: the data is empty (x and y have no samples)")
    return x, y


def _positive_int(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an int >= 1, got {type(value).__name__} {value!r}")
    if value < 1:
        raise ValueError(f"{name} must be >= 1, got {value}")
    return int(value)


class Evaluator:
    """Run a model over a data set and compute one or more metrics.

    The model is put in eval mode (Dropout off) and run under
    ``scalargrad.no_grad()`` (no graph recorded); each module's previous
    training mode is restored afterwards. ``batch_size`` feeds the metrics
    that many samples at a time (None: all at once); the value is the same.

    ``evaluate()`` (or ``run()``) returns the metric's value, or with a list
    of metrics a dict ``{name: value}``. A metric is a ``Metric`` (anything
    with ``reset``/``update``/``compute``) or a plain callable
    ``metric(outputs, targets)``.

    >>> import random
    >>> from scalargrad.nn import Linear
    >>> random.seed(0)
    >>> model = Linear(2, 2)
    >>> ev = Evaluator(x=[[1.0, 0.0], [0.0, 1.0]], y=[0, 1], model=model, metric=AccuracyMetric())
    >>> 0.0 <= ev.evaluate() <= 1.0
    True
    >>> sorted(Evaluator(x=[[1.0, 0.0]], y=[0], model=model,
    ...                  metric=[AccuracyMetric(), F1Metric()]).evaluate())
    ['accuracy', 'f1']
    """

    def __init__(self, x: Sequence[Any] | None = None, y: Sequence[Any] | None = None,
                 model: Callable[[Any], Any] | None = None, metric: Any = None,
                 batch_size: int | None = None) -> None:
        self.x, self.y = _check_pair(x, y, "Evaluator")
        if model is None or not callable(model):
            raise TypeError(f"Evaluator needs a callable model=, got {type(model).__name__}")
        if metric is None:
            raise TypeError("Evaluator needs metric= (e.g. AccuracyMetric(), or a list of metrics)")
        metrics = list(metric) if isinstance(metric, (list, tuple)) else [metric]
        if not metrics:
            raise ValueError("Evaluator got an empty list of metrics")
        for m in metrics:
            if not _streaming(m) and not callable(m):
                raise TypeError(f"a metric must be a Metric or a callable(outputs, targets), "
                                f"got {type(m).__name__}")
        names = [_metric_name(m) for m in metrics]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"two metrics are named {duplicates[0]!r}; give them different names")
        self.batch_size = None if batch_size is None else _positive_int(batch_size, "batch_size")
        self.model = model
        self.metric = metric
        self.metrics = metrics
        self.names = names
        self.logger = None  # kept from the original API

    def results(self) -> dict[str, Any]:
        """Every metric's value by name, in the order given."""
        model = self.model
        modes = [(m, m.training) for _, m in model.named_modules()] if isinstance(model, Module) else []
        if modes:
            model.eval()
        try:
            with no_grad():
                streaming = [m for m in self.metrics if _streaming(m)]
                plain = [m for m in self.metrics if not _streaming(m)]
                for m in streaming:
                    m.reset()
                x, y = self.x, self.y
                step = self.batch_size or len(x)
                all_outputs: list = []
                for i in range(0, len(x), step):
                    xc, yc = x[i:i + step], y[i:i + step]
                    outputs = [model(xi) for xi in xc]
                    for m in streaming:
                        m.update(outputs, yc)
                    if plain:
                        all_outputs.extend(outputs)
                return {name: (m.compute() if _streaming(m) else m(all_outputs, y))
                        for name, m in zip(self.names, self.metrics)}
        finally:
            for m, training in modes:
                m.training = training

    def evaluate(self) -> Any:
        """The metric's value (a dict ``{name: value}`` when several metrics were given)."""
        results = self.results()
        if isinstance(self.metric, (list, tuple)):
            return results
        return next(iter(results.values()))

    run = evaluate  # the original API's name

    def __repr__(self) -> str:
        return f"Evaluator({len(self.x)} samples, metrics={self.names})"


# ==========================================================================
# History
# ==========================================================================

_INT = re.compile(r"[+-]?\d+\Z")


def _parse_cell(text: str) -> Any:
    if _INT.match(text):
        return int(text)
    try:
        return float(text)
    except ValueError:
        return text


class History:
    """Per-epoch records of a run: ``{'epoch', 'train_loss', 'val_<metric>', ..., 'lr', 'seconds'}``.

    ``history['train_loss']`` gives that column as a list (None where an
    epoch lacks it), ``history[0]`` the first record, ``len(history)`` the
    number of epochs. ``interrupted`` is True when the run was stopped by
    Ctrl-C (or ``Trainer.request_interrupt()``).

    >>> h = History([{'epoch': 1, 'train_loss': 0.5}, {'epoch': 2, 'train_loss': 0.25}])
    >>> h['train_loss'], len(h), h.keys()
    ([0.5, 0.25], 2, ['epoch', 'train_loss'])
    """

    def __init__(self, records: Iterable[dict[str, Any]] | None = None, interrupted: bool = False) -> None:
        self.records: list[dict[str, Any]] = [dict(r) for r in records] if records is not None else []
        for i, r in enumerate(self.records):
            if not all(isinstance(k, str) for k in r):
                raise TypeError(f"History record {i} has a key that is not a str")
        self.interrupted = bool(interrupted)

    def append(self, record: dict[str, Any]) -> None:
        """Add one epoch's record."""
        self.records.append(dict(record))

    def keys(self) -> list[str]:
        """Every key of every record, in order of first appearance."""
        seen: dict[str, None] = {}
        for r in self.records:
            seen.update(dict.fromkeys(r))
        return list(seen)

    def __len__(self) -> int:
        return len(self.records)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return iter(self.records)

    def __getitem__(self, key: str | int) -> Any:
        if isinstance(key, str):
            if self.records and not any(key in r for r in self.records):
                raise KeyError(f"no history key {key!r}; the keys are {self.keys()}")
            return [r.get(key) for r in self.records]
        return self.records[key]

    def __contains__(self, key: object) -> bool:
        return any(key in r for r in self.records)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, History):
            return NotImplemented
        return self.records == other.records and self.interrupted == other.interrupted

    def state_dict(self) -> dict[str, Any]:
        """``{'records': [...], 'interrupted': bool}`` (JSON-able)."""
        return {"records": [dict(r) for r in self.records], "interrupted": self.interrupted}

    @classmethod
    def from_state(cls, state: Any) -> History:
        """A History from ``state_dict()`` output (or a bare list of records)."""
        if isinstance(state, list):
            return cls(state)
        if not isinstance(state, dict) or not isinstance(state.get("records"), list) \
                or not all(isinstance(r, dict) for r in state["records"]):
            raise ValueError("a history must be {'records': [dict, ...], 'interrupted': bool}")
        return cls(state["records"], bool(state.get("interrupted", False)))

    def to_json(self, path: str | os.PathLike) -> None:
        """Write the records (and the interrupted flag) as JSON."""
        with atomic_open(path, "w") as f:
            json.dump(self.state_dict(), f, indent=1)
            f.write("\n")

    @classmethod
    def from_json(cls, path: str | os.PathLike) -> History:
        """Read a History written by ``to_json``."""
        with open(path, encoding="utf-8") as f:
            return cls.from_state(json.load(f))

    def to_csv(self, path: str | os.PathLike) -> None:
        """Write one row per epoch, one column per key (empty where a record lacks it)."""
        with atomic_open(path, "w") as f:
            writer = csv.DictWriter(f, fieldnames=self.keys(), restval="")
            writer.writeheader()
            for r in self.records:
                writer.writerow({k: repr(v) if isinstance(v, float) else v for k, v in r.items()})

    @classmethod
    def from_csv(cls, path: str | os.PathLike) -> History:
        """Read a History written by ``to_csv`` (numbers come back as ints and floats)."""
        with open(path, encoding="utf-8", newline="") as f:
            return cls([{k: _parse_cell(v) for k, v in row.items() if v != ""} for row in csv.DictReader(f)])

    def __repr__(self) -> str:
        flag = ", interrupted" if self.interrupted else ""
        return f"History({len(self)} epochs, keys={self.keys()}{flag})"


# ==========================================================================
# Callbacks
# ==========================================================================

class Callback:
    """Base class for callbacks: override the hooks you need (all are no-ops here).

    Epochs are numbered from 1 (as in the log lines and the History);
    ``batch`` is the 0-based index of the batch within its epoch. A callback
    may set ``trainer.stop_training = True`` (stop after this epoch) or call
    ``trainer.request_interrupt()`` (stop after this batch, as Ctrl-C does).
    A callback with ``state_dict()``/``load_state_dict()`` has its state saved
    in the Trainer's checkpoint and restored by ``Trainer.resume``.

    >>> class PrintLoss(Callback):
    ...     def on_epoch_end(self, trainer, epoch, logs):
    ...         print(epoch, round(logs['train_loss'], 3))
    """

    def on_train_begin(self, trainer: Trainer) -> None:
        """Called once when ``run()`` (or ``resume()``) starts."""

    def on_epoch_begin(self, trainer: Trainer, epoch: int) -> None:
        """Called before the first batch of each epoch (also of a resumed, half-done one)."""

    def on_batch_end(self, trainer: Trainer, batch: int, logs: dict[str, Any]) -> None:
        """Called after each optimizer step; ``logs`` holds ``batch``, ``size`` and ``loss``."""

    def on_epoch_end(self, trainer: Trainer, epoch: int, logs: dict[str, Any]) -> None:
        """Called after each epoch with its record (plus non-scalar metrics such as a confusion matrix)."""

    def on_train_end(self, trainer: Trainer) -> None:
        """Called once when training stops (finished, stopped early or interrupted)."""


_HOOKS = ("on_train_begin", "on_epoch_begin", "on_batch_end", "on_epoch_end", "on_train_end")


class LambdaCallback(Callback):
    """A callback from plain functions, e.g. ``LambdaCallback(on_epoch_end=lambda t, e, logs: ...)``.

    >>> cb = LambdaCallback(on_epoch_end=lambda trainer, epoch, logs: print(epoch))
    """

    def __init__(self, **hooks: Callable[..., Any]) -> None:
        for name, fn in hooks.items():
            if name not in _HOOKS:
                raise ValueError(f"unknown hook {name!r}; the hooks are {list(_HOOKS)}")
            if not callable(fn):
                raise TypeError(f"{name} must be callable, got {type(fn).__name__}")
            setattr(self, name, fn)


_MAX_WORDS = ("acc", "f1", "r2", "auc", "precision", "recall")


def _check_mode(mode: Any) -> str:
    if mode not in ("min", "max", "auto"):
        raise ValueError(f"mode must be 'min', 'max' or 'auto', got {mode!r}")
    return mode


def _scalar_keys(logs: dict[str, Any]) -> list[str]:
    return [k for k, v in logs.items() if isinstance(v, numbers.Real)]


class _Monitor(Callback):
    """Tracks the best value of one logged key."""

    def __init__(self, monitor: str, mode: str, min_delta: float) -> None:
        if not isinstance(monitor, str) or not monitor:
            raise TypeError(f"monitor must be a key of the epoch logs (a str), got {monitor!r}")
        self.monitor = monitor
        self.mode = _check_mode(mode)
        delta = _real(min_delta, "min_delta")
        if not delta >= 0.0:
            raise ValueError(f"min_delta must be >= 0, got {min_delta!r}")
        self.min_delta = delta
        self._mode = "min" if mode == "auto" else mode
        self.best = math.inf if self._mode == "min" else -math.inf
        self.best_epoch: int | None = None

    def _reset(self, trainer: Trainer) -> None:
        self._mode = trainer.metric_mode(self.monitor) if self.mode == "auto" else self.mode
        self.best = math.inf if self._mode == "min" else -math.inf
        self.best_epoch = None

    def _current(self, logs: dict[str, Any]) -> float:
        if self.monitor not in logs:
            raise ValueError(f"{type(self).__name__}: monitor {self.monitor!r} is not in the epoch logs; "
                             f"available keys: {', '.join(_scalar_keys(logs))}")
        value = logs[self.monitor]
        if not isinstance(value, numbers.Real):
            raise TypeError(f"{type(self).__name__}: monitor {self.monitor!r} is a {type(value).__name__}, "
                            f"not a number; monitor one of: {', '.join(_scalar_keys(logs))}")
        return float(value)

    def _improved(self, value: float) -> bool:
        if self._mode == "min":
            return value < self.best - self.min_delta
        return value > self.best + self.min_delta


class EarlyStopping(_Monitor):
    """Stop training when ``monitor`` has not improved for ``patience`` epochs.

    ``monitor`` is any key of the epoch record (``'val_loss'``,
    ``'val_accuracy'``, ``'train_loss'``, ...); an unknown key raises
    ValueError at the first epoch end, listing the keys there are. ``mode``
    'min' or 'max' ('auto': from the metric's ``higher_is_better``, else by
    name). An improvement must beat the best by more than ``min_delta``.
    With ``restore_best=True`` the model gets the best epoch's weights back
    when training ends (not when it is interrupted, so a resume continues
    from where it stopped).

    >>> stop = EarlyStopping(monitor='val_accuracy', patience=3, mode='max', restore_best=True)
    """

    def __init__(self, monitor: str = "val_loss", patience: int = 5, mode: str = "auto",
                 min_delta: float = 0.0, restore_best: bool = False) -> None:
        super().__init__(monitor, mode, min_delta)
        if isinstance(patience, bool) or not isinstance(patience, int) or patience < 0:
            raise ValueError(f"patience must be an int >= 0, got {patience!r}")
        self.patience = patience
        self.restore_best = bool(restore_best)
        self.wait = 0
        self.stopped_epoch: int | None = None
        self.best_weights: dict[str, Any] | None = None

    def on_train_begin(self, trainer: Trainer) -> None:
        self._reset(trainer)
        self.wait = 0
        self.stopped_epoch = None
        self.best_weights = None

    def on_epoch_end(self, trainer: Trainer, epoch: int, logs: dict[str, Any]) -> None:
        value = self._current(logs)
        if self._improved(value):
            self.best, self.best_epoch, self.wait = value, epoch, 0
            if self.restore_best:
                self.best_weights = trainer.model.state_dict()
            return
        self.wait += 1
        if self.wait >= self.patience:
            trainer.stop_training = True
            self.stopped_epoch = epoch

    def on_train_end(self, trainer: Trainer) -> None:
        history = trainer.history
        if self.restore_best and self.best_weights is not None and not (history and history.interrupted):
            trainer.model.load_state_dict(self.best_weights)

    def state_dict(self) -> dict[str, Any]:
        """The counters (and best weights) that a checkpoint keeps."""
        return {"best": self.best, "best_epoch": self.best_epoch, "wait": self.wait,
                "stopped_epoch": self.stopped_epoch, "best_weights": self.best_weights, "mode": self._mode}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore ``state_dict()`` output."""
        self.best = float(state["best"])
        self.best_epoch = state["best_epoch"]
        self.wait = int(state["wait"])
        self.stopped_epoch = state["stopped_epoch"]
        self.best_weights = state["best_weights"]
        self._mode = state["mode"]

    def __repr__(self) -> str:
        return (f"EarlyStopping(monitor={self.monitor!r}, patience={self.patience}, mode={self.mode!r}, "
                f"min_delta={self.min_delta}, restore_best={self.restore_best})")


class ModelCheckpoint(_Monitor):
    """Save the model's state (``scalargrad.nn.save``: JSON, atomic) after epochs.

    With ``save_best_only=True`` (default) it saves only when ``monitor``
    improves; otherwise after every epoch. ``path`` may hold fields filled
    from the epoch's record, e.g. ``'model-{epoch:03d}-{val_loss:.3f}.json'``.
    Load it back with ``model.load(path)``.

    >>> ckpt = ModelCheckpoint('best.json', monitor='val_accuracy')
    """

    def __init__(self, path: str | os.PathLike, monitor: str = "val_loss", save_best_only: bool = True,
                 mode: str = "auto", min_delta: float = 0.0) -> None:
        super().__init__(monitor, mode, min_delta)
        self.path = os.fspath(path)
        self.save_best_only = bool(save_best_only)
        self.last_saved: str | None = None

    def on_train_begin(self, trainer: Trainer) -> None:
        self._reset(trainer)

    def on_epoch_end(self, trainer: Trainer, epoch: int, logs: dict[str, Any]) -> None:
        if self.save_best_only:
            value = self._current(logs)
            if not self._improved(value):
                return
            self.best, self.best_epoch = value, epoch
        path = self.path.format(**{**logs, "epoch": epoch}) if "{" in self.path else self.path
        _save(trainer.model, path)
        self.last_saved = path

    def state_dict(self) -> dict[str, Any]:
        """The best value so far (kept in the Trainer's checkpoint)."""
        return {"best": self.best, "best_epoch": self.best_epoch, "last_saved": self.last_saved,
                "mode": self._mode}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore ``state_dict()`` output."""
        self.best = float(state["best"])
        self.best_epoch = state["best_epoch"]
        self.last_saved = state["last_saved"]
        self._mode = state["mode"]

    def __repr__(self) -> str:
        return (f"ModelCheckpoint({self.path!r}, monitor={self.monitor!r}, "
                f"save_best_only={self.save_best_only}, mode={self.mode!r})")


# ==========================================================================
# Trainer
# ==========================================================================

_tqdm_notice_shown = False


def _tqdm_class():
    try:
        from tqdm import tqdm
    except ImportError:
        return None
    return tqdm


def _isatty(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError, OSError):
        return False


def _terminal_columns(stream: Any) -> int:
    """The width the terminal reports; 80 when it cannot be asked (a notebook, say)."""
    try:
        return os.get_terminal_size(stream.fileno()).columns
    except (AttributeError, OSError, ValueError, io.UnsupportedOperation):
        return 80


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


def _rng_to_json(state: tuple) -> list:
    version, internal, gauss_next = state
    return [version, list(internal), gauss_next]


def _rng_from_json(value: Any) -> tuple:
    try:
        version, internal, gauss_next = value
        state = (int(version), tuple(int(v) for v in internal), None if gauss_next is None else float(gauss_next))
        random.Random().setstate(state)  # validates it without touching the global generator
    except (TypeError, ValueError) as e:
        raise ValueError(f"the checkpoint's rng_state is not a random.getstate() value ({e})") from None
    return state


def _placeholders(values: Any) -> Any:
    """Leaf Scalars shaped like ``values`` (nested lists of numbers), holding its values."""
    if isinstance(values, (list, tuple)):
        return [_placeholders(v) for v in values]
    return Scalar(values)


class _BatchReplays:
    """The graphs of ``Trainer(replay=True)``: one Replay per batch size, fed with each batch."""

    def __init__(self, model: Callable[[Any], Any], loss_fn: Callable[[list, list], Any]) -> None:
        self.model, self.loss_fn = model, loss_fn
        self._by_size: dict[int, Replay] = {}

    def forward(self, xb: Sequence[Any], yb: Sequence[Any]) -> Replay:
        """The Replay for this batch's size, run forward on its values."""
        values = _flatten_values(yb, _flatten_values(xb, []))
        replay = self._by_size.get(len(xb))
        if replay is None:
            replay = self._by_size[len(xb)] = self._build(xb, yb)
        if len(values) != len(replay.inputs):
            raise ValueError(f"Trainer(replay=True): a batch of {len(xb)} samples holds {len(values)} numbers, "
                             f"but the first one held {len(replay.inputs)}; samples must all have one shape")
        replay.forward(values)
        return replay

    def _build(self, xb: Sequence[Any], yb: Sequence[Any]) -> Replay:
        model, loss_fn = self.model, self.loss_fn
        try:
            x_in, y_in = _placeholders(list(xb)), _placeholders(list(yb))
            inputs = _flatten_values(y_in, _flatten_values(x_in, []))
            return Replay(lambda: loss_fn([model(x) for x in x_in], y_in), inputs)
        except (TypeError, ValueError) as e:
            raise type(e)(f"Trainer(replay=True) cannot replay this model and loss: {e}") from e


class Trainer:
    """Train ``model`` with ``loss`` and ``optimizer`` for ``num_epochs`` epochs; ``run()`` returns a History.

    Data: ``x=`` and ``y=`` (lists or numpy arrays) batched by ``batch_size``
    and reshuffled every epoch (``shuffle=False`` keeps the given order, as
    the original scalargrad did), or ``loader=`` a ``scalargrad.data.DataLoader``
    (or any iterable of ``(xb, yb)`` batches).

    Keyword options:

    * ``evaluator``: an ``Evaluator`` run after every epoch; its metrics are
      recorded as ``'val_<name>'``.
    * ``scheduler``: an lr scheduler stepped once per epoch;
      ``ReduceLROnPlateau`` gets ``scheduler_monitor`` (default:
      ``val_loss`` if recorded, else the first validation metric, else
      ``train_loss``).
    * ``callbacks``: ``Callback`` objects (``EarlyStopping``, ``ModelCheckpoint``, ...).
    * ``seed``: ``random.seed(seed)`` at the start of ``run()`` (so Dropout
      and initialisations inside the run repeat) and the loader's shuffling
      seed, so the same seed gives the same weights bit for bit.
    * ``progress``: None shows a tqdm bar per epoch when tqdm is installed and
      stdout is a terminal, else one line per epoch on stdout; True forces the
      bar; False shows nothing. A ``logger`` (a ``logging.Logger`` or any
      callable taking a str) receives the epoch lines instead of stdout.
    * ``checkpoint``: a path; the full training state (model, optimizer,
      scheduler, history, position, random state) is written there
      atomically after every epoch and on interrupt. ``Trainer.resume(path)``
      continues from it.
    * ``replay``: build each batch size's graph once and replay it with new
      values (``scalargrad.replay.Replay``): the same losses and weights,
      faster. The graph must not change with the data: no Dropout in
      training mode, and a loss whose targets can be fed (MSE, L1, Hinge,
      BCE, BCEWithLogits, CrossEntropy; not NLL).

    Ctrl-C during ``run()`` stops at the next batch boundary and returns the
    History so far (``history.interrupted`` is True), writing the checkpoint;
    a second Ctrl-C aborts at once with KeyboardInterrupt.

    >>> import random
    >>> from scalargrad.nn import Linear, Sequential, CrossEntropyLoss, SGD
    >>> random.seed(0)
    >>> x, y = [[0.0, 1.0], [1.0, 0.0], [0.1, 0.9], [0.9, 0.2]], [1, 0, 1, 0]
    >>> model = Sequential([Linear(2, 4, activation='tanh'), Linear(4, 2)])
    >>> history = Trainer(x=x, y=y, model=model, loss=CrossEntropyLoss(),
    ...                   optimizer=SGD(model.parameters(), lr=0.5), batch_size=2, num_epochs=30,
    ...                   evaluator=Evaluator(x=x, y=y, model=model, metric=AccuracyMetric()),
    ...                   seed=0, progress=False).run()
    >>> len(history), history['val_accuracy'][-1]
    (30, 1.0)
    """

    def __init__(self, x: Sequence[Any] | None = None, y: Sequence[Any] | None = None,
                 model: Callable[[Any], Any] | None = None, loss: Callable[[list, list], Any] | None = None,
                 optimizer: Any = None, batch_size: int | None = None, num_epochs: int | None = None,
                 evaluator: Evaluator | None = None, logger: Logger = None, *,
                 loader: Any = None, shuffle: bool | None = None, scheduler: Any = None,
                 scheduler_monitor: str | None = None, callbacks: Sequence[Any] | None = None,
                 seed: int | None = None, progress: bool | None = None,
                 checkpoint: str | os.PathLike | None = None, replay: bool = False) -> None:
        if model is None or not callable(model):
            raise TypeError(f"Trainer needs a callable model=, got {type(model).__name__}")
        if loss is None or not callable(loss):
            raise TypeError(f"Trainer needs a callable loss= (e.g. CrossEntropyLoss()), got {type(loss).__name__}")
        if optimizer is None or not callable(getattr(optimizer, "step", None)) \
                or not callable(getattr(optimizer, "zero_grad", None)):
            raise TypeError(f"Trainer needs an optimizer= with step() and zero_grad(), "
                            f"got {type(optimizer).__name__}")
        if num_epochs is None:
            raise TypeError("Trainer needs num_epochs= (an int >= 1)")
        self.num_epochs = _positive_int(num_epochs, "num_epochs")

        # ---- data ----
        if loader is not None:
            if x is not None or y is not None:
                raise ValueError("give either x= and y= or loader=, not both")
            if not hasattr(loader, "epoch_batches") and not isinstance(loader, Iterable):
                raise TypeError(f"loader must be a DataLoader or an iterable of (xb, yb) batches, "
                                f"got {type(loader).__name__}")
            if shuffle is not None:
                raise ValueError("shuffle= applies to x=/y=; set shuffle on the DataLoader instead")
            own = getattr(loader, "batch_size", None)
            if batch_size is not None:
                batch_size = _positive_int(batch_size, "batch_size")
                if own is not None and own != batch_size:
                    raise ValueError(f"batch_size={batch_size} conflicts with the loader's batch_size={own}")
            self.batch_size = batch_size if batch_size is not None else own
            self.x, self.y, self._dataset = None, None, None
            self.shuffle = getattr(loader, "shuffle", None)
        else:
            if x is None and y is None:
                raise ValueError("no training data: give x= and y=, or loader=")
            if x is None or y is None:
                raise ValueError(f"x= and y= go together; {'x' if x is None else 'y'} is missing")
            self.x, self.y = _check_pair(x, y, "Trainer")
            if batch_size is None:
                raise TypeError("Trainer needs batch_size= (an int >= 1) with x= and y=")
            self.batch_size = _positive_int(batch_size, "batch_size")
            if shuffle is not None and not isinstance(shuffle, bool):
                raise TypeError(f"shuffle must be True or False, got {shuffle!r}")
            self.shuffle = True if shuffle is None else shuffle
            self._dataset = Dataset(self.x, self.y)
        self._user_loader = loader
        self.loader = loader  # the loader of the current run (built from x/y by run() when not given)

        # ---- options ----
        if evaluator is not None and not callable(getattr(evaluator, "results", None)):
            raise TypeError(f"evaluator must be an Evaluator, got {type(evaluator).__name__}")
        if logger is not None and not callable(getattr(logger, "info", None)) and not callable(logger):
            raise TypeError(f"logger must be a logging.Logger or a callable taking a str, "
                            f"got {type(logger).__name__}")
        if scheduler is not None and not callable(getattr(scheduler, "step", None)):
            raise TypeError(f"scheduler must have a step() method, got {type(scheduler).__name__}")
        if scheduler_monitor is not None and not isinstance(scheduler_monitor, str):
            raise TypeError(f"scheduler_monitor must be a str, got {type(scheduler_monitor).__name__}")
        if callbacks is None:
            callbacks = []
        elif not isinstance(callbacks, (list, tuple)):
            raise TypeError(f"callbacks must be a list of Callback objects, got {type(callbacks).__name__}")
        for cb in callbacks:
            if not any(callable(getattr(cb, hook, None)) for hook in _HOOKS):
                raise TypeError(f"a callback needs at least one of {list(_HOOKS)}, got {type(cb).__name__}")
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, numbers.Integral)):
            raise TypeError(f"seed must be an int or None, got {type(seed).__name__}")
        if replay not in (True, False):
            raise TypeError(f"replay must be True or False, got {replay!r}")
        if progress not in (None, True, False):
            raise TypeError(f"progress must be None, True or False, got {progress!r}")
        if checkpoint is not None:
            checkpoint = os.fspath(checkpoint)
            for obj, what in ((model, "model"), (optimizer, "optimizer")):
                if not callable(getattr(obj, "state_dict", None)) or not callable(getattr(obj, "load_state_dict",
                                                                                         None)):
                    raise TypeError(f"checkpoint= needs a {what} with state_dict() and load_state_dict()")
        self.model = model
        self.loss = loss
        self.optimizer = optimizer
        self.evaluator = evaluator
        self.logger = logger
        self.scheduler = scheduler
        self.scheduler_monitor = scheduler_monitor
        self.callbacks = list(callbacks)
        self.seed = None if seed is None else int(seed)
        self.progress = progress
        self.checkpoint = checkpoint
        self.replay = bool(replay)

        # ---- run state ----
        self.history: History | None = None
        self.epoch = 0             # the current epoch, from 1
        self.losses: list[float] = []  # every batch loss of the current run (the original API's attribute)
        self.stop_training = False
        self.interrupt_requested = False
        self._pending: dict[str, Any] | None = None  # a loaded checkpoint, applied by the next run()
        self._position: tuple = (0, 0, 0.0, 0, 0.0)  # (epoch index, next batch, loss sum, batches, seconds)
        self._loader_seed: int | None = None
        self._sigint_installed = False
        self._display = "silent"
        self._bar = None
        self._log: Callable[[str], Any] | None = None
        self._plateau_key: str | None = None

    # ---- helpers used by callbacks ---------------------------------------------------

    def request_interrupt(self) -> None:
        """Stop after the current batch, as a first Ctrl-C does (the run counts as interrupted)."""
        self.interrupt_requested = True

    def metric_mode(self, key: str) -> str:
        """'max' if larger values of the logged ``key`` are better, else 'min'."""
        if self.evaluator is not None and key.startswith("val_"):
            for name, m in zip(getattr(self.evaluator, "names", []), getattr(self.evaluator, "metrics", [])):
                if "val_" + name == key:
                    return "max" if getattr(m, "higher_is_better", False) else "min"
        return "max" if any(word in key.lower() for word in _MAX_WORDS) else "min"

    # ---- the run -------------------------------------------------------------------

    def run(self) -> History:
        """Train to ``num_epochs`` and return the History.

        Each call is a new run from the model's current weights (reseeding
        ``random`` when ``seed`` is given), unless ``load_checkpoint`` was
        called first: then it continues from the checkpoint's position.
        """
        pending, self._pending = self._pending, None
        self.stop_training = False
        self.interrupt_requested = False
        self.losses = []
        self._plateau_key = None
        if pending is None:
            if self.seed is not None:
                random.seed(self.seed)
            self.history = History()
            self._position = (0, 0, 0.0, 0, 0.0)
            self._loader_seed = self._new_loader_seed()
        else:
            random.setstate(pending["rng_state"])
            self._position = pending["position"]
            self._loader_seed = pending["loader_seed"]
            self.stop_training = pending["stop_training"]
        assert self.history is not None
        self.history.interrupted = False
        self.epoch = self._position[0]
        loader = self._user_loader
        if loader is None:
            loader = DataLoader(self._dataset, batch_size=self.batch_size, shuffle=self.shuffle,
                                seed=self._loader_seed)
        self.loader = loader
        self._display = self._resolve_display()
        self._log = None if self.logger is None else getattr(self.logger, "info", self.logger)
        try:
            n_batches: int | None = len(loader)
        except TypeError:
            n_batches = None
        if pending is not None and pending["position"][1] > 0:
            self._warn_if_unseeded(loader)

        previous = self._install_sigint()
        try:
            for fn in self._hooks("on_train_begin"):
                fn(self)
            if pending is not None:
                self._load_callback_states(pending["callbacks"])
            if isinstance(self.model, Module):
                self.model.train()
            while self._position[0] < self.num_epochs and not self.stop_training and not self.interrupt_requested:
                self._run_epoch(loader, n_batches)
            if self._bar is not None:  # an interrupted epoch's bar
                self._bar.close()
                self._bar = None
            if self.interrupt_requested:
                self.history.interrupted = True
                if self.checkpoint is not None:
                    self._write_checkpoint(self.checkpoint)
                self._notice(self._interrupt_message(n_batches))
            for fn in self._hooks("on_train_end"):
                fn(self)
        finally:
            if self._bar is not None:
                self._bar.close()
                self._bar = None
            self._restore_sigint(previous)
        return self.history

    def _run_epoch(self, loader: Any, n_batches: int | None) -> None:
        epoch_index, start, loss_sum, count, seconds_before = self._position
        epoch = self.epoch = epoch_index + 1
        for fn in self._hooks("on_epoch_begin"):
            fn(self, epoch)
        lrs = self._lrs()
        t0 = time.perf_counter()
        model, loss_fn, optimizer = self.model, self.loss, self.optimizer
        replays = _BatchReplays(model, loss_fn) if self.replay else None
        batch_hooks = self._hooks("on_batch_end")
        losses = self.losses
        bar = self._bar = self._open_bar(epoch, n_batches, start)
        batch = start
        try:
            for xb, yb in self._epoch_batches(loader, epoch_index, start):
                if replays is not None:
                    loss = replays.forward(xb, yb)
                else:
                    outputs = [model(xi) for xi in xb]
                    loss = loss_fn(outputs, yb)
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                value = loss.data if replays is None else loss.output.data
                loss_sum += value
                count += 1
                losses.append(value)
                if batch_hooks:
                    logs = {"batch": batch, "size": len(xb), "loss": value}
                    for fn in batch_hooks:
                        fn(self, batch, logs)
                batch += 1
                if bar is not None:
                    bar.set_postfix_str(f"loss={loss_sum / count:.4g}", refresh=False)
                    bar.update(1)
                if self.interrupt_requested:
                    break
        except KeyboardInterrupt:
            if self._sigint_installed:
                raise  # a second Ctrl-C: abort at once
            # No handler of ours (not the main thread): stop here. The batch that was
            # running is dropped; if it was inside optimizer.step() the resume is not exact.
            self.interrupt_requested = True
        seconds = seconds_before + time.perf_counter() - t0
        if self.interrupt_requested:
            self._position = (epoch_index, batch, loss_sum, count, seconds)
            return

        record: dict[str, Any] = {"epoch": epoch, "train_loss": loss_sum / count if count else math.nan}
        extra: dict[str, Any] = {}
        if self.evaluator is not None:
            for name, value in self.evaluator.results().items():
                if isinstance(value, numbers.Real) and not isinstance(value, bool):
                    record["val_" + name] = float(value)
                else:
                    extra["val_" + name] = value
        if lrs:
            record["lr"] = lrs[0]
            if any(lr != lrs[0] for lr in lrs):
                record.update({f"lr_{i}": lr for i, lr in enumerate(lrs)})
        record["seconds"] = seconds_before + time.perf_counter() - t0
        self.history.append(record)
        logs = {**record, **extra}
        self._step_scheduler(logs)
        if bar is not None:  # the bar keeps the epoch's summary (it shows the time itself)
            bar.set_postfix_str(", ".join(f"{k}={_fmt(v)}" for k, v in record.items()
                                          if k not in ("epoch", "seconds")), refresh=False)
            bar.close()
            self._bar = None
        self._emit(self._epoch_line(record))
        for fn in self._hooks("on_epoch_end"):
            fn(self, epoch, logs)
        self._position = (epoch_index + 1, 0, 0.0, 0, 0.0)
        if self.checkpoint is not None:
            self._write_checkpoint(self.checkpoint)

    @staticmethod
    def _epoch_batches(loader: Any, epoch_index: int, start: int) -> Iterable[tuple[Any, Any]]:
        epoch_batches = getattr(loader, "epoch_batches", None)
        if epoch_batches is not None:
            return epoch_batches(epoch_index, start)
        batches = iter(loader)
        return itertools.islice(batches, start, None) if start else batches

    def _hooks(self, name: str) -> list[Callable[..., Any]]:
        base = getattr(Callback, name)
        hooks = (getattr(cb, name, None) for cb in self.callbacks)
        return [fn for fn in hooks if callable(fn) and getattr(fn, "__func__", None) is not base]  # skip no-ops

    def _lrs(self) -> list[float]:
        groups = getattr(self.optimizer, "param_groups", None)
        try:
            return [float(g["lr"]) for g in groups] if groups else []
        except (KeyError, TypeError, ValueError):
            return []

    def _new_loader_seed(self) -> int | None:
        if self._user_loader is not None:
            return getattr(self._user_loader, "seed", None)
        if self.seed is not None:
            return self.seed
        # No seed: draw the loader's seed from the global random, so that a checkpoint
        # can still replay an interrupted epoch's batch order exactly.
        return random.randrange(2 ** 32) if self.shuffle else None

    def _step_scheduler(self, logs: dict[str, Any]) -> None:
        scheduler = self.scheduler
        if scheduler is None:
            return
        if not isinstance(scheduler, ReduceLROnPlateau):
            scheduler.step()
            return
        if self._plateau_key is None:
            key = self.scheduler_monitor
            if key is None:
                val = [k for k in logs if k.startswith("val_") and isinstance(logs[k], numbers.Real)]
                key = "val_loss" if "val_loss" in val else (val[0] if val else "train_loss")
            elif not isinstance(logs.get(key), numbers.Real):
                raise ValueError(f"scheduler_monitor {key!r} is not in the epoch logs; "
                                 f"available keys: {', '.join(_scalar_keys(logs))}")
            wanted = self.metric_mode(key)
            if wanted != scheduler.mode:
                warnings.warn(f"ReduceLROnPlateau(mode={scheduler.mode!r}) watches {key!r}, for which "
                              f"{wanted!r} looks right", stacklevel=2)
            self._plateau_key = key
        scheduler.step(logs[self._plateau_key])

    # ---- display ---------------------------------------------------------------------

    def _resolve_display(self) -> str:
        global _tqdm_notice_shown
        if self.progress is False:
            return "silent"
        has_tqdm = _tqdm_class() is not None
        if self.progress is True:
            if has_tqdm:
                return "bar"
            if not _tqdm_notice_shown:
                _tqdm_notice_shown = True
                print("scalargrad: tqdm is not installed (pip install tqdm); showing one line per epoch "
                      "instead of a progress bar", file=sys.stderr, flush=True)
            return "plain"
        # A terminal that reports no width (some pseudo-terminals) draws a bar as blank lines.
        usable = _isatty(sys.stdout) and _terminal_columns(sys.stdout) > 0
        return "bar" if has_tqdm and usable else "plain"

    def _open_bar(self, epoch: int, total: int | None, initial: int):
        if self._display != "bar":
            return None
        tqdm = _tqdm_class()
        return tqdm(total=total, initial=initial, desc=f"Epoch {epoch}/{self.num_epochs}", unit="batch",
                    file=sys.stdout, leave=True, dynamic_ncols=True)

    def _epoch_line(self, record: dict[str, Any]) -> str:
        values = " - ".join(f"{k}: {_fmt(v)}" for k, v in record.items() if k not in ("epoch", "seconds"))
        return f"Epoch {record['epoch']}/{self.num_epochs} - {values} - {record['seconds']:.2f}s"

    def _emit(self, line: str) -> None:
        if self._log is not None:
            self._log(line)
        elif self._display == "plain":
            print(line, flush=True)

    def _notice(self, message: str) -> None:
        if self._log is not None:
            self._log(message)
        elif self._display != "silent":
            print(message, file=sys.stderr, flush=True)

    def _interrupt_message(self, n_batches: int | None) -> str:
        epoch_index, batch = self._position[:2]
        where = f"after epoch {epoch_index}" if batch == 0 else \
            f"in epoch {epoch_index + 1} after batch {batch}" + (f" of {n_batches}" if n_batches else "")
        saved = f"; checkpoint written to {self.checkpoint} (continue with Trainer.resume)" \
            if self.checkpoint is not None else ""
        return f"Training interrupted {where}{saved}"

    # ---- Ctrl-C ----------------------------------------------------------------------

    def _on_sigint(self, signum: int, frame: Any) -> None:
        if self.interrupt_requested:
            raise KeyboardInterrupt
        self.interrupt_requested = True

    def _install_sigint(self) -> Any:
        self._sigint_installed = False
        if threading.current_thread() is not threading.main_thread():
            return None
        try:
            previous = signal.getsignal(signal.SIGINT)
            signal.signal(signal.SIGINT, self._on_sigint)
        except (ValueError, OSError, AttributeError):  # e.g. an embedded interpreter without signals
            return None
        self._sigint_installed = True
        return signal.SIG_DFL if previous is None else previous

    def _restore_sigint(self, previous: Any) -> None:
        if self._sigint_installed:
            signal.signal(signal.SIGINT, previous)
            self._sigint_installed = False

    # ---- checkpoints -----------------------------------------------------------------

    def _write_checkpoint(self, path: str) -> None:
        epoch_index, batch, loss_sum, count, seconds = self._position
        scheduler = self.scheduler
        state = {
            "kind": _CHECKPOINT_KIND,
            "version": _CHECKPOINT_VERSION,
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "scheduler": scheduler.state_dict() if scheduler is not None and hasattr(scheduler, "state_dict")
            else None,
            "history": self.history.state_dict(),
            "epoch": epoch_index,       # completed epochs
            "batch": batch,             # batches done in the next epoch
            "epoch_loss_sum": loss_sum,
            "epoch_batches": count,
            "epoch_seconds": seconds,
            "rng_state": _rng_to_json(random.getstate()),
            "loader_seed": self._loader_seed,
            "seed": self.seed,
            "num_epochs": self.num_epochs,
            "stop_training": self.stop_training,
            "callbacks": [[type(cb).__name__, cb.state_dict()] for cb in self.callbacks
                          if callable(getattr(cb, "state_dict", None))],
        }
        _save(state, path)

    def load_checkpoint(self, path: str | os.PathLike) -> Trainer:
        """Load a checkpoint written by this kind of Trainer; the next ``run()`` continues from it.

        The model, optimizer and scheduler states are replaced at once (all or
        nothing); the history, position, random state and callback states
        are applied when ``run()`` starts.
        """
        state = _load(path)
        if not isinstance(state, dict) or state.get("kind") != _CHECKPOINT_KIND:
            raise ValueError(f"{os.fspath(path)}: not a Trainer checkpoint (a model-only file? "
                             "load that with model.load(path))")
        required = ("model", "optimizer", "scheduler", "history", "epoch", "batch", "epoch_loss_sum",
                    "epoch_batches", "epoch_seconds", "rng_state", "loader_seed", "stop_training", "callbacks")
        missing = [k for k in required if k not in state]
        if missing:
            raise ValueError(f"{os.fspath(path)}: the checkpoint is missing {missing}")
        if (state["scheduler"] is None) != (self.scheduler is None):
            have = "has" if self.scheduler is not None else "has no"
            raise ValueError(f"{os.fspath(path)}: the checkpoint {'has no' if state['scheduler'] is None else 'has a'}"
                             f" scheduler state but this Trainer {have} scheduler")
        epoch, batch = state["epoch"], state["batch"]
        if not all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in (epoch, batch)):
            raise ValueError(f"{os.fspath(path)}: bad position epoch={epoch!r}, batch={batch!r}")
        rng_state = _rng_from_json(state["rng_state"])
        history = History.from_state(state["history"])
        callbacks = state["callbacks"]
        if not isinstance(callbacks, list) or not all(
                isinstance(c, list) and len(c) == 2 and isinstance(c[0], str) for c in callbacks):
            raise ValueError(f"{os.fspath(path)}: bad callback states (expected [[class name, state], ...])")

        saved = [(obj, obj.state_dict()) for obj in (self.model, self.optimizer, self.scheduler)
                 if obj is not None and hasattr(obj, "state_dict")]
        try:
            self.model.load_state_dict(state["model"])
            self.optimizer.load_state_dict(state["optimizer"])
            if self.scheduler is not None:
                self.scheduler.load_state_dict(state["scheduler"])
        except BaseException:
            for obj, old in saved:
                obj.load_state_dict(old)
            raise
        self.history = history
        loader_seed = state["loader_seed"]
        if self._user_loader is not None and getattr(self._user_loader, "seed", None) != loader_seed:
            warnings.warn(f"the checkpoint was made with a loader seed of {loader_seed!r} but this loader has "
                          f"{getattr(self._user_loader, 'seed', None)!r}; batches will differ", stacklevel=2)
        self._pending = {
            "position": (epoch, batch, float(state["epoch_loss_sum"]), int(state["epoch_batches"]),
                         float(state["epoch_seconds"])),
            "rng_state": rng_state,
            "loader_seed": loader_seed,
            "stop_training": bool(state["stop_training"]),
            "callbacks": callbacks,
        }
        self._position = self._pending["position"]
        return self

    def resume(self, path: str | os.PathLike) -> History:
        """Load the checkpoint at ``path`` and train on to ``num_epochs``; returns the whole History.

        Model, optimizer, scheduler, history, random state and the position
        (down to the batch) are restored, so the run ends with exactly the
        weights an uninterrupted run with the same settings reaches. Build the
        Trainer as for the original run (same data, batch size, seed and
        kinds of model, optimizer and scheduler); a fresh model's weights are
        overwritten.

        >>> # trainer = Trainer(..., checkpoint='run.json'); trainer.run()   # Ctrl-C
        >>> # history = Trainer(..., checkpoint='run.json').resume('run.json')
        """
        self.load_checkpoint(path)
        return self.run()

    def _load_callback_states(self, states: list[list[Any]]) -> None:
        """Give each stateful callback the next saved state of its class, in order."""
        remaining = list(states)
        for cb in self.callbacks:
            if not callable(getattr(cb, "load_state_dict", None)):
                continue
            for i, (name, cb_state) in enumerate(remaining):
                if name == type(cb).__name__:
                    cb.load_state_dict(cb_state)
                    del remaining[i]
                    break
            else:
                warnings.warn(f"the checkpoint holds no state for the {type(cb).__name__} callback; "
                              "it starts afresh", stacklevel=4)

    def _warn_if_unseeded(self, loader: Any) -> None:
        if getattr(loader, "shuffle", False) and getattr(loader, "seed", 0) is None:
            warnings.warn("resuming in the middle of an epoch with an unseeded shuffling loader: the rest "
                          "of that epoch sees a different batch order (give the DataLoader a seed)",
                          stacklevel=3)

    def __repr__(self) -> str:
        return (f"Trainer(model={type(self.model).__name__}, optimizer={type(self.optimizer).__name__}, "
                f"batch_size={self.batch_size}, num_epochs={self.num_epochs})")
