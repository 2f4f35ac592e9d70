"""``Evaluator``: run a model over a data set (no graph, eval mode) and compute its metrics."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Callable

from .._util.nested import map_leaves
from ..data import load_samples
from ..nn import Module
from ..scalar import Scalar, no_grad
from .arguments import count, map_style_dataset
from .metrics import is_streaming, metric_name
from .parallel_steps import check_parallel
from .values import paired_samples

__all__ = ["Evaluator"]


class Evaluator:
    """Run a model over a data set and compute one or more metrics.

    The model is put in eval mode (Dropout off) and run under
    ``scalargrad.no_grad()`` (no graph recorded); each module's previous
    training mode is restored afterwards. ``batch_size`` feeds the metrics
    that many samples at a time (None: all at once); the value is the same.

    The data are ``x=`` and ``y=`` (lists or numpy arrays), or ``dataset=`` a
    map-style dataset (``__len__``, and ``__getitem__(i)`` giving ``(x, y)``),
    loaded ``batch_size`` samples at a time.

    ``workers=N`` runs the model in N workers (this process and N - 1 more), each on a consecutive
    shard of every chunk (``scalargrad.parallel.DataParallel``; ``executor=``
    an executor of your own instead): the same outputs, as floats. The pool
    starts at the first evaluation and stops at its end, unless the
    Evaluator is open (``with evaluator:`` or ``open()``, as a Trainer run
    does) until ``close()``.

    ``evaluate()`` (or ``run()``) returns the metric's value, or with a list
    of metrics a dict ``{name: value}``. A metric is a ``Metric`` (anything
    with ``reset``/``update``/``compute``) or a plain callable
    ``metric(outputs, targets)``.

    >>> import random
    >>> from scalargrad.nn import Linear
    >>> from scalargrad.train import AccuracyMetric, F1Metric
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
                 batch_size: int | None = None, *, dataset: Any = None, workers: int | None = None,
                 executor: Any = None) -> None:
        if dataset is not None:
            if x is not None or y is not None:
                raise ValueError("Evaluator: give either x= and y= or dataset=, not both")
            self.dataset = map_style_dataset(dataset, "Evaluator")
            self.x = self.y = None
        else:
            self.x, self.y = paired_samples(x, y, "Evaluator")
            self.dataset = None
        if model is None or not callable(model):
            raise TypeError(f"Evaluator needs a callable model=, got {type(model).__name__}")
        if metric is None:
            raise TypeError("Evaluator needs metric= (e.g. AccuracyMetric(), or a list of metrics)")
        metrics = list(metric) if isinstance(metric, (list, tuple)) else [metric]
        if not metrics:
            raise ValueError("Evaluator got an empty list of metrics")
        for m in metrics:
            if not is_streaming(m) and not callable(m):
                raise TypeError(f"a metric must be a Metric or a callable(outputs, targets), "
                                f"got {type(m).__name__}")
        names = [metric_name(m) for m in metrics]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"two metrics are named {duplicates[0]!r}; give them different names")
        self.batch_size = None if batch_size is None else count(batch_size, "batch_size")
        self.model = model
        self.metric = metric
        self.metrics = metrics
        self.names = names
        self.logger = None  # the original scalargrad's API
        self.executor = executor
        self.workers = check_parallel(model, None, workers, executor, "graph")
        self._pool: Any = None  # the DataParallel of an open Evaluator, or of the evaluation under way
        self._kept_open = False

    def results(self) -> dict[str, Any]:
        """Every metric's value by name, in the order given."""
        model = self.model
        modes = [(m, m.training) for _, m in model.named_modules()] if isinstance(model, Module) else []
        if modes:
            model.eval()
        try:
            with no_grad():
                return self._compute()
        finally:
            for m, training in modes:
                m.training = training
            if not self._kept_open:
                self._stop_pool()

    def open(self) -> Evaluator:
        """Keep the worker pool (``workers=``) running between evaluations, until ``close()``."""
        self._kept_open = True
        return self

    def close(self) -> None:
        """Stop the worker pool, if one runs."""
        self._kept_open = False
        self._stop_pool()

    def __enter__(self) -> Evaluator:  # noqa: PYI034
        return self.open()

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _stop_pool(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.close()

    def _outputs(self, xs: Sequence[Any]) -> list:
        """The model's outputs on ``xs``: here, or from the worker pool (floats made Scalars again)."""
        if self.workers is None:
            model = self.model
            return [model(xi) for xi in xs]
        if self._pool is None:
            from ..parallel import DataParallel  # lazy: scalargrad.parallel imports this package

            self._pool = DataParallel(self.model, None, self.workers, executor=self.executor, step="graph")
        return [map_leaves(Scalar, out) for out in self._pool.outputs(xs)]

    def _compute(self) -> dict[str, Any]:
        """Run the model over the data in chunks of ``batch_size``, feeding the streaming metrics as it goes;
        the plain callables get every output at the end."""
        streaming = [m for m in self.metrics if is_streaming(m)]
        plain = [m for m in self.metrics if not is_streaming(m)]
        for m in streaming:
            m.reset()
        x, y, dataset = self.x, self.y, self.dataset
        n = len(x) if dataset is None else len(dataset)
        step = self.batch_size or n
        all_outputs: list = []
        all_targets: list = []
        for i in range(0, n, step):
            if dataset is None:
                xc, yc = x[i:i + step], y[i:i + step]
            else:  # loaded now, a chunk at a time
                xc, yc = load_samples(dataset, range(i, min(i + step, n)))
            outputs = self._outputs(xc)
            for m in streaming:
                m.update(outputs, yc)
            if plain:
                all_outputs.extend(outputs)
                all_targets.extend(yc)
        return {name: (m.compute() if is_streaming(m) else m(all_outputs, all_targets))
                for name, m in zip(self.names, self.metrics)}

    def evaluate(self) -> Any:
        """The metric's value (a dict ``{name: value}`` when several metrics were given)."""
        results = self.results()
        if isinstance(self.metric, (list, tuple)):
            return results
        return next(iter(results.values()))

    run = evaluate  # the original scalargrad's API

    def __repr__(self) -> str:
        n = len(self.x) if self.dataset is None else len(self.dataset)
        return f"Evaluator({n} samples, metrics={self.names})"
