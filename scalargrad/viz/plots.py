"""Training plots with matplotlib: ``plot_history`` (loss and metric curves) and
``plot_decision_boundary`` (a 2-D classifier's regions).

matplotlib and numpy are optional and imported only when a plot is asked for.

>>> records = [{'epoch': 1, 'train_loss': 0.9}, {'epoch': 2, 'train_loss': 0.5}]
>>> fig = plot_history(records)                    # doctest: +SKIP
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from .._util.files import atomic_open
from ..scalar import no_grad
from .notebook import show_figures_inline

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["plot_decision_boundary", "plot_history"]

# Figures are built with matplotlib.figure.Figure on an Agg canvas, never with
# pyplot, so plotting works without a display and never changes the backend or
# any other global matplotlib state the user has set up. In a Jupyter kernel a
# returned figure shows inline (see notebook.show_figures_inline).

# matplotlib's "tab10" colours: class k is drawn in _PALETTE[k] (points) and, lighter, as its region.
_PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
            "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf")

# Columns of a History record that are bookkeeping, not curves (unless asked for by name).
_NOT_CURVES = ("epoch", "lr", "seconds")


def _import_matplotlib():
    try:
        import numpy as np
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
        from matplotlib.ticker import MaxNLocator
    except ImportError:
        raise ImportError("plotting needs matplotlib: pip install matplotlib") from None
    return Figure, FigureCanvasAgg, MaxNLocator, np


def _new_figure(figsize):
    Figure, FigureCanvasAgg, _, _ = _import_matplotlib()
    fig = Figure(figsize=figsize, dpi=100, layout="constrained")
    FigureCanvasAgg(fig)  # attaches itself as fig.canvas; no pyplot, no global backend
    show_figures_inline(Figure)
    return fig


def _save_figure(fig, path) -> None:
    """Write ``fig`` to ``path`` (format from the suffix, png without one) via a temp file and a rename."""
    path = os.fspath(path)
    fmt = os.path.splitext(path)[1].lstrip(".").lower() or "png"
    supported = fig.canvas.get_supported_filetypes()
    if fmt not in supported:
        raise ValueError(f"cannot save a plot as {fmt!r}; use one of {', '.join(sorted(supported))}")
    with atomic_open(path, "wb") as f:
        fig.savefig(f, format=fmt)


def _is_number(value) -> bool:
    if isinstance(value, bool):
        return False
    try:
        float(value)
    except (TypeError, ValueError):
        return False
    return not isinstance(value, (str, bytes))


def _history_records(history) -> list[dict]:
    """A History (``.records``), a list of per-epoch dicts, or a dict of per-epoch lists -> list of dicts."""
    if hasattr(history, "records"):
        history = history.records
    if isinstance(history, dict):
        columns = {key: list(values) for key, values in history.items()}
        n = max((len(v) for v in columns.values()), default=0)
        return [{key: values[i] for key, values in columns.items() if i < len(values)} for i in range(n)]
    if isinstance(history, (str, bytes)) or not hasattr(history, "__iter__"):
        raise TypeError("plot_history needs a History, a list of per-epoch dicts or a dict of lists, "
                        f"got {type(history).__name__}")
    records = list(history)
    for i, record in enumerate(records):
        if not isinstance(record, dict):
            raise TypeError(f"history record {i} should be a dict, got {type(record).__name__}")
    return records


def _metric_name(key: str) -> str:
    for prefix in ("train_", "val_"):
        if key.startswith(prefix):
            return key[len(prefix):]
    return key


def plot_history(history: Any, path: str | os.PathLike | None = None,
                 metrics: str | Sequence[str] | None = None) -> Figure:
    """Plot a training run: loss curves, then one panel per metric, against the epoch.

    ``history`` is a ``scalargrad.train.History`` (anything with ``.records``),
    a list of per-epoch dicts such as ``{'epoch': 3, 'train_loss': 0.41,
    'val_loss': 0.45, 'val_accuracy': 0.87, 'lr': 0.1, 'seconds': 2.3}``, or a
    dict of per-epoch lists (``{'train_loss': [...], 'val_accuracy': [...]}``).
    Every key ending in ``loss`` goes in the first panel (log scale when the
    loss falls by more than a factor 100); every other numeric key except
    ``epoch``, ``lr`` and ``seconds`` gets a panel per metric, with its
    ``train_`` and ``val_`` curves together. ``metrics`` picks the metric
    panels: names such as ``'accuracy'`` (both prefixes) or exact keys such as
    ``'val_accuracy'`` or ``'lr'``. Epochs where a value is missing or None
    (say, validation every 5th epoch) are skipped, not drawn as zero.

    Returns the ``matplotlib.figure.Figure``; with ``path`` it is also
    written there (png, svg, pdf, ... from the suffix), atomically. No pyplot
    and no global matplotlib state are used, so this works with no display.
    In a Jupyter notebook the figure shows inline when it is the cell's value
    (no ``%matplotlib inline`` needed).

    >>> records = [{'epoch': 1, 'train_loss': 0.9, 'val_loss': 1.0, 'val_accuracy': 0.60},
    ...            {'epoch': 2, 'train_loss': 0.5, 'val_loss': 0.6, 'val_accuracy': 0.80},
    ...            {'epoch': 3, 'train_loss': 0.3, 'val_loss': 0.4, 'val_accuracy': 0.90}]
    >>> fig = plot_history(records)                    # doctest: +SKIP
    >>> fig = plot_history(trainer.history, 'history.png', metrics=['accuracy'])   # doctest: +SKIP
    """
    _, _, MaxNLocator, _ = _import_matplotlib()
    records = _history_records(history)
    if not records:
        raise ValueError("the history is empty: nothing to plot")

    keys = []  # numeric columns, in first-seen order
    for record in records:
        for key, value in record.items():
            if key not in keys and value is not None and _is_number(value):
                keys.append(key)
    loss_keys = [k for k in keys if k.endswith("loss")]
    if metrics is None:
        metric_keys = [k for k in keys if k not in loss_keys and k not in _NOT_CURVES]
    else:
        if isinstance(metrics, str):
            metrics = [metrics]
        metric_keys = []
        for name in metrics:
            found = [k for k in keys if k == name or (k not in loss_keys and _metric_name(k) == name)]
            if not found:
                raise ValueError(f"no metric {name!r} in the history; it has "
                                 f"{', '.join(keys) or 'no numbers'}")
            metric_keys += [k for k in found if k not in metric_keys]
    panels = []  # (title, keys)
    if loss_keys:
        panels.append(("loss", loss_keys))
    for key in metric_keys:
        name = _metric_name(key)
        for title, members in panels:
            if title == name:
                members.append(key)
                break
        else:
            panels.append((name, [key]))
    if not panels:
        raise ValueError(f"nothing to plot: the history has no loss or metric values "
                         f"(keys: {', '.join(keys)})")

    epochs = [r["epoch"] if _is_number(r.get("epoch")) else i + 1 for i, r in enumerate(records)]
    n_cols = min(len(panels), 3)
    n_rows = -(-len(panels) // n_cols)
    fig = _new_figure((4.6 * n_cols + 0.4, 3.6 * n_rows + 0.5))
    axes = fig.subplots(n_rows, n_cols, squeeze=False).ravel()
    marker = "o" if len(records) <= 40 else None
    for ax, (title, members) in zip(axes, panels):
        lowest, highest = math.inf, -math.inf
        for key in members:
            points = [(e, float(r[key])) for e, r in zip(epochs, records)
                      if r.get(key) is not None and _is_number(r[key]) and math.isfinite(float(r[key]))]
            if not points:
                continue
            xs, ys = zip(*points)
            ax.plot(xs, ys, marker=marker, markersize=3, linewidth=1.6, label=key)
            lowest, highest = min(lowest, *ys), max(highest, *ys)
        if title == "loss" and lowest > 0 and highest / lowest > 100:
            ax.set_yscale("log")
        ax.set_title(title)
        ax.set_xlabel("epoch")
        ax.set_ylabel(title)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(True, alpha=0.3)
        if ax.get_lines():
            ax.legend()
    for ax in axes[len(panels):]:
        ax.set_visible(False)
    fig.suptitle(f"Training history ({len(records)} epoch{'s' if len(records) != 1 else ''})")
    if path is not None:
        _save_figure(fig, path)
    return fig


def _predictor(model, labels: list, threshold: float):
    """A function point -> predicted label, for a model giving logits or one score."""
    lo, hi = (labels[0], labels[-1]) if labels else (0, 1)

    def predict(point: list[float]) -> Any:
        out = model(point)
        if isinstance(out, (list, tuple)):
            if not out:
                raise ValueError("the model returned an empty list")
            if len(out) > 1:  # logits or probabilities: the class is the index of the largest
                values = [float(v) for v in out]
                return max(range(len(values)), key=values.__getitem__)
            out = out[0]
        if len(labels) > 2:
            raise ValueError(f"the model gives one output but y has {len(labels)} classes; "
                             "a multiclass model should return a list of logits")
        return hi if float(out) > threshold else lo

    return predict


def plot_decision_boundary(model: Callable, x: Sequence, y: Sequence, path: str | os.PathLike | None = None,
                           resolution: int = 100, padding: float = 0.5, *, threshold: float = 0.0) -> Figure:
    """Colour the plane by the class ``model`` predicts and scatter the points of a 2-D data set on it.

    As in micrograd's moons demo: the model is evaluated (under
    ``scalargrad.no_grad()``, and in eval mode if it has one) on a
    ``resolution`` x ``resolution`` grid spanning the points plus ``padding``.
    ``model(point)`` gets ``[x0, x1]`` as two floats and may return

    - a list of logits (or probabilities): the class is the index of the
      largest, so ``y`` holds class ids 0, 1, ..., k-1;
    - a single Scalar or number, or a 1-element list (as ``MSELoss`` and
      ``HingeLoss`` models give): the class is the larger of the two labels
      in ``y`` when the output is above ``threshold`` (0: a logit or a
      ±1 score) and the smaller one otherwise, so labels may be ±1 or 0/1.
      Use ``threshold=0.5`` for a model ending in a sigmoid.

    Any callable taking a point works as ``model``. The title gives the
    accuracy on ``(x, y)``. Returns the ``matplotlib.figure.Figure``; with
    ``path`` it is also written there (png, svg, pdf, ... from the suffix),
    atomically. No pyplot and no global matplotlib state are used. In a
    Jupyter notebook the figure shows inline when it is the cell's value.

    >>> from scalargrad.data import make_moons
    >>> from scalargrad.nn import Linear, Sequential
    >>> x, y = make_moons(100, noise=0.1, seed=0)
    >>> model = Sequential([Linear(2, 16, activation='relu'), Linear(16, 2)])
    >>> # ... train it with CrossEntropyLoss ...
    >>> fig = plot_decision_boundary(model, x, y, 'moons.png')     # doctest: +SKIP
    """
    _, _, _, np = _import_matplotlib()

    points = np.asarray(x, dtype=float)
    if points.ndim != 2 or points.shape[1] != 2:
        raise ValueError(f"plot_decision_boundary needs 2-D inputs (n points of 2 features), got shape "
                         f"{points.shape}")
    targets = [t.item() if hasattr(t, "item") else t for t in y]
    if len(targets) != len(points):
        raise ValueError(f"x has {len(points)} points but y has {len(targets)} labels")
    if len(points) == 0:
        raise ValueError("no points to plot")
    if isinstance(resolution, bool) or not isinstance(resolution, int) or resolution < 2:
        raise ValueError(f"resolution must be an int >= 2, got {resolution!r}")
    if not _is_number(padding) or not float(padding) >= 0:
        raise ValueError(f"padding must be a number >= 0, got {padding!r}")
    labels = sorted(set(targets))

    (x0_min, x1_min), (x0_max, x1_max) = points.min(axis=0) - padding, points.max(axis=0) + padding
    if x0_min == x0_max:
        x0_min, x0_max = x0_min - 1.0, x0_max + 1.0
    if x1_min == x1_max:
        x1_min, x1_max = x1_min - 1.0, x1_max + 1.0
    xx, yy = np.meshgrid(np.linspace(x0_min, x0_max, resolution), np.linspace(x1_min, x1_max, resolution))

    predict = _predictor(model, labels, float(threshold))
    modes = [(m, m.training) for _, m in model.named_modules()] if hasattr(model, "named_modules") else []
    if modes and hasattr(model, "eval"):
        model.eval()  # Dropout and friends off while drawing; restored below
    try:
        with no_grad():
            grid = [predict([float(a), float(b)]) for a, b in zip(xx.ravel().tolist(), yy.ravel().tolist())]
            predicted = [predict([float(a), float(b)]) for a, b in points.tolist()]
    finally:
        for m, training in modes:
            m.training = training

    classes = sorted(set(labels) | set(grid))
    if len(classes) <= len(_PALETTE):
        colours = list(_PALETTE[:len(classes)])
    else:
        import matplotlib
        cmap = matplotlib.colormaps["turbo"]
        colours = [cmap(i / (len(classes) - 1)) for i in range(len(classes))]
    index = {c: i for i, c in enumerate(classes)}
    zz = np.array([index[c] for c in grid], dtype=float).reshape(xx.shape)
    levels = np.arange(len(classes) + 1) - 0.5

    fig = _new_figure((6.4, 5.2))
    ax = fig.add_subplot()
    ax.contourf(xx, yy, zz, levels=levels, colors=colours, alpha=0.3)
    if zz.min() != zz.max():
        ax.contour(xx, yy, zz, levels=levels[1:-1], colors="k", linewidths=0.8, alpha=0.6)
    for c in labels:
        mask = np.array([t == c for t in targets])
        ax.scatter(points[mask, 0], points[mask, 1], s=22, color=colours[index[c]], edgecolors="k",
                   linewidths=0.5, label=f"class {c}", zorder=3)
    ax.set_xlim(x0_min, x0_max)
    ax.set_ylim(x1_min, x1_max)
    ax.set_xlabel("x[0]")
    ax.set_ylabel("x[1]")
    accuracy = sum(p == t for p, t in zip(predicted, targets)) / len(targets)
    ax.set_title(f"Decision boundary: accuracy {accuracy:.1%} on {len(targets)} points")
    ax.legend(loc="best", framealpha=0.8)
    if path is not None:
        _save_figure(fig, path)
    return fig
