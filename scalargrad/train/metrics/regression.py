"""Regression metrics: mean squared error, mean absolute error and R²."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from ..values import output_values, paired_batch
from .base import Metric

__all__ = ["MAEMetric", "MSEMetric", "R2Metric"]


class _ErrorMetric(Metric):
    """The mean of ``_error(output - target)`` over every output value."""

    higher_is_better = False

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        """Forget every sample seen."""
        self._sum = 0.0
        self._count = 0

    @staticmethod
    def _error(d: float) -> float:
        raise NotImplementedError

    def update(self, outputs: Sequence[Any], targets: Sequence[Any]) -> None:
        """Add a batch: one output and one target (of as many values) per sample."""
        who = type(self).__name__
        outputs, targets = paired_batch(outputs, targets, who)
        err, total, count = self._error, 0.0, 0
        for o, t in zip(outputs, targets):
            v, tv = output_values(o, who), output_values(t, who)
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
    NAME = "MSE"  # the original scalargrad's API

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
    otherwise; fewer than two samples give nan, and so does a nan output
    (a diverged model never scores as a real fit, constant targets or not).

    >>> R2Metric()([1.0, 2.0, 3.0], [1.0, 2.0, 4.0])
    0.7857142857142857
    """

    name = "r2"
    higher_is_better = True

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        """Forget every sample seen."""
        self._n = 0
        self._mean: list[float] = []
        self._m2: list[float] = []
        self._ss_res: list[float] = []

    def update(self, outputs: Sequence[Any], targets: Sequence[Any]) -> None:
        """Add a batch, updating the targets' running mean and variance and the squared residuals."""
        who = type(self).__name__
        outputs, targets = paired_batch(outputs, targets, who)
        for o, t in zip(outputs, targets):
            v, tv = output_values(o, who), output_values(t, who)
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
        scores = [1.0 - res / tot if tot > 0.0
                  else (1.0 if res == 0.0 else math.nan if math.isnan(res) else 0.0)
                  for res, tot in zip(self._ss_res, self._m2)]
        return sum(scores) / len(scores)
