"""torch's functional losses on Scalars, nested lists of Scalars and numbers, and numpy arrays.

Class losses (``cross_entropy``, ``nll_loss``) take an input of shape (C,), (N, C) or (N, C, d1, ...)
and class indices (an int per sample) or, for ``cross_entropy``, class probabilities of the input's
shape. Elementwise losses take inputs of any shape. ``reduction`` is ``'mean'``, ``'sum'`` or
``'none'`` (the per-element losses, nested as torch shapes them), as in torch; ``'mean'`` and ``'sum'``
are one node over the terms. Cross-entropy and the binary losses are one fused node per sample
(per element), stable for logits of any size; their targets are constants (no gradient flows to a
Scalar target: a Replay feeds targets through them). The ``nn`` loss classes call these functions.

>>> from scalargrad import Scalar
>>> z = [[Scalar(2.0), Scalar(0.0)], [Scalar(0.0), Scalar(1.0)]]
>>> round(cross_entropy(z, [0, 1]).data, 4), mse_loss([Scalar(1.0), Scalar(3.0)], [0.0, 2.0]).data
(0.2201, 1.0)
"""

from __future__ import annotations

import math
import warnings
from typing import Any

from . import _floats as fl
from ._util.checks import integer, nonnegative, number, one_of, positive, unit_interval
from ._util.nested import nest, regular_leaves, shape, to_lists
from .extend import SCALAR_OPS, FloatMath, Op, Scalar, building_replay, make_node
from .list_ops import mean as mean_of
from .list_ops import sum as sum_of
from .nested_ops import Nested, read_tensor
from .nested_ops import map as broadcast_map

__all__ = ["binary_cross_entropy", "binary_cross_entropy_with_logits", "cross_entropy", "hinge_loss",
           "huber_loss", "kl_div", "l1_loss", "mean_squared_error", "mse_loss", "nll_loss", "smooth_l1_loss",
           "softmax_cross_entropy"]

_REDUCTIONS = ("mean", "sum", "none")


# ---- reading the arguments ---------------------------------------------------------------------------

def _scalar(v: Any) -> Scalar:
    return v if isinstance(v, Scalar) else Scalar(v)


def _value(v: Any) -> float:
    """A target's number: a Scalar's value (a Replay's fed target) or the number itself."""
    return v.data if isinstance(v, Scalar) else v


def _reduced(losses: list, dims: tuple[int, ...], reduction: str, fn: str):
    """The per-element ``losses`` (row-major) reduced: one mean or sum node, or nested in ``dims``."""
    reduction = one_of(reduction, f"{fn} reduction", _REDUCTIONS)
    if reduction == "none":
        return nest(losses, dims)
    if reduction == "sum":
        return sum_of(losses)
    return mean_of(losses) if losses else Scalar(math.nan)  # torch: the mean of nothing is nan


def _rows(fn: str, input: Nested, target: Nested, same_shape: bool, **extras: Any) -> tuple[tuple, list]:
    """The broadcast shape and the (input, target, extras...) element tuples in row-major order. With
    ``same_shape`` the target must have the input's shape (as torch's binary losses), else a different shape
    broadcasts with torch's UserWarning; the extras (weights) broadcast to the input's shape."""
    named = [("input", input), ("target", target)] + [(k, v) for k, v in extras.items() if v is not None]
    shapes, columns = zip(*[read_tensor(value, fn, name) for name, value in named])
    if shapes[1] != shapes[0]:
        if same_shape:
            raise ValueError(f"{fn}: the target's shape {shapes[1]} must be the input's shape {shapes[0]}")
        warnings.warn(f"{fn}: the target's shape {shapes[1]} differs from the input's shape {shapes[0]}; "
                      "they broadcast, which is likely not what you meant", UserWarning, stacklevel=3)
    if all(s == shapes[0] for s in shapes):  # nothing to broadcast
        return shapes[0], list(zip(*columns))
    rows: list = []
    try:
        dims = shape(broadcast_map(lambda *items: rows.append(items), *[v for _, v in named]))
    except ValueError:
        listed = ", ".join(f"{name} {s}" for (name, _), s in zip(named, shapes))
        raise ValueError(f"{fn}: the shapes do not broadcast ({listed})") from None
    if len(named) > 2 and dims != shapes[0]:
        raise ValueError(f"{fn}: {', '.join(n for n, _ in named[2:])} must broadcast to the input's shape "
                         f"{shapes[0]}, got shapes {tuple(shapes[2:])}")
    return dims, rows


# ---- regression: built from Scalar ops ---------------------------------------------------------------

def mse_loss(input: Nested, target: Nested, reduction: str = "mean") -> Any:
    """Mean squared error ``(input - target) ** 2``, reduced, as ``torch.nn.functional.mse_loss``.

    Shapes broadcast (with torch's warning when they differ); a Scalar target gets its gradient too.
    """
    dims, rows = _rows("mse_loss", input, target, False)
    return _reduced([d * d for d in (_scalar(i - t) for i, t in rows)], dims, reduction, "mse_loss")


def l1_loss(input: Nested, target: Nested, reduction: str = "mean") -> Any:
    """Mean absolute error ``|input - target|`` (gradient 0 where they are equal), as
    ``torch.nn.functional.l1_loss``."""
    dims, rows = _rows("l1_loss", input, target, False)
    return _reduced([_scalar(i - t).abs() for i, t in rows], dims, reduction, "l1_loss")


# y = scale * (0.5 d**2 / beta where |d| < beta, else |d| - 0.5 beta): smooth L1 (scale 1) and Huber
# (beta = scale = delta), torch's two names for one curve. The constant is (beta, scale).

def _smooth_l1_value(d: float, constant: tuple[float, float]) -> float:
    beta, scale = constant
    return scale * (0.5 * d * d / beta if abs(d) < beta else abs(d) - 0.5 * beta)


def _smooth_l1_rule(maths, d, y, constant):
    beta, scale = constant
    return d * (scale / beta) if abs(d) < beta else scale if d > 0.0 else -scale if d < 0.0 else 0.0


_smooth_l1 = Op("smooth_l1", _smooth_l1_value, _smooth_l1_rule, constant=True,
                label=lambda constant: "smooth_l1" if constant[1] == 1.0 else "huber")


def _smooth_l1_losses(fn: str, input: Nested, target: Nested, reduction: str, beta: float, scale: float):
    dims, rows = _rows(fn, input, target, False)
    if beta == 0.0:  # torch's smooth L1 with beta 0 is L1
        return _reduced([_scalar(i - t).abs() for i, t in rows], dims, reduction, fn)
    constant, differences = (beta, scale), [_scalar(i - t) for i, t in rows]
    return _reduced([make_node(_smooth_l1, (d,), _smooth_l1_value(d.data, constant), constant)
                     for d in differences], dims, reduction, fn)


def smooth_l1_loss(input: Nested, target: Nested, reduction: str = "mean", beta: float = 1.0) -> Any:
    """``0.5 d**2 / beta`` where ``|d| < beta``, else ``|d| - 0.5 beta`` (d = input - target), as
    ``torch.nn.functional.smooth_l1_loss``; ``beta=0`` is ``l1_loss``.

    >>> from scalargrad import Scalar
    >>> [v.data for v in smooth_l1_loss([Scalar(0.5), Scalar(3.0)], [0.0, 0.0], reduction='none')]
    [0.125, 2.5]
    """
    beta = nonnegative(beta, "smooth_l1_loss: beta")
    return _smooth_l1_losses("smooth_l1_loss", input, target, reduction, beta, 1.0)


def huber_loss(input: Nested, target: Nested, reduction: str = "mean", delta: float = 1.0) -> Any:
    """``0.5 d**2`` where ``|d| < delta``, else ``delta (|d| - 0.5 delta)`` (d = input - target), as
    ``torch.nn.functional.huber_loss``: ``delta * smooth_l1_loss(..., beta=delta)``."""
    delta = positive(delta, "huber_loss: delta")
    return _smooth_l1_losses("huber_loss", input, target, reduction, delta, delta)


def kl_div(input: Nested, target: Nested, reduction: str = "mean", log_target: bool = False) -> Any:
    """KL divergence of ``target`` from the log-probabilities ``input``, as ``torch.nn.functional.kl_div``:
    ``target (log target - input)`` element by element (0 where the target is 0), or with
    ``log_target=True`` (``target`` holds log-probabilities) ``e**target (target - input)``.
    ``reduction='batchmean'`` divides the sum by the batch size (the input's first dimension), as the KL
    divergence is defined; ``'mean'``, the default, by the number of elements, with torch's warning. Shapes
    broadcast; a Scalar target gets its gradient too (except at 0, where torch's is nan)."""
    reduction = one_of(reduction, "kl_div reduction", (*_REDUCTIONS, "batchmean"))
    if reduction == "mean":
        warnings.warn("kl_div: reduction='mean' divides the sum by the number of elements; 'batchmean', "
                      "by the batch size, as KL divergence is defined (torch's 'mean' will)", stacklevel=2)
    dims, rows = _rows("kl_div", input, target, False)
    losses = [_kl_term(_scalar(x), t, log_target) for x, t in rows]
    if reduction != "batchmean":
        return _reduced(losses, dims, reduction, "kl_div")
    input_dims = shape(to_lists(input))
    return sum_of(losses) / input_dims[0] if input_dims else sum_of(losses)


def _kl_term(x: Scalar, t: Any, log_target: bool) -> Scalar:
    if log_target:
        return (t - x) * (t.exp() if isinstance(t, Scalar) else fl.exp(t))
    if not isinstance(t, Scalar):  # xlogy(t, t): 0 where t is 0
        return x * -t + (0.0 if t == 0 else t * fl.log(t))
    return t * (t.log() if t.data != 0.0 else 0.0) - t * x


def mean_squared_error(pred: Nested, target: Nested) -> Scalar:
    """PyGrad's name for ``mse_loss(pred, target)`` (the mean)."""
    return mse_loss(pred, target)


# ---- cross-entropy: one node per sample ------------------------------------------------------------
# y = -sum_j c_j log_softmax(z)_j, dy/dz_j = S softmax(z)_j - c_j with S = sum_j c_j.
# For a class index t: c_j = (1 - eps) w_t [j == t] + eps w_j / n (w = 1 without weights, and then S = 1);
# for class probabilities p: c_j = w_j ((1 - eps) p_j + eps / n). The constant is (c, target, eps, weights),
# target the class id (or the Scalar holding it when a Replay feeds the targets), None for probabilities.

def _total(constant: tuple) -> float:
    """S = sum_j c_j: exactly 1 for a class index without weights."""
    return 1.0 if constant[1] is not None and constant[3] is None else sum(constant[0])


def _cross_entropy_rule(maths, zs, y, constant):
    """S softmax(z) - c, softmax_j = e^((z_j - max) - log(sum e^(z - max))): exact for logits of any size; on
    Scalars (create_graph) the log of the sum is recorded, so higher derivatives flow through it."""
    m = max(getattr(z, "data", z) for z in zs)
    shifted = [z - m for z in zs] if math.isfinite(m) else list(zs)
    log_s = maths.log(sum([maths.exp(v) for v in shifted]))
    total = _total(constant)
    if total == 1.0:
        return [maths.exp(v - log_s) - cj for v, cj in zip(shifted, constant[0])]
    return [maths.exp(v - log_s) * total - cj for v, cj in zip(shifted, constant[0])]


def _class_index(target: Any) -> int:
    """A class target as an int: an int (numpy's too) or a Scalar holding a whole number (a Replay's)."""
    if isinstance(target, Scalar):
        if not target.data.is_integer():
            raise ValueError(f"class targets must be whole numbers, got {target.data}")
        return int(target.data)
    try:
        return integer(target, "class target")
    except TypeError:
        raise TypeError(f"class targets must be ints, got {type(target).__name__}") from None


def _smoothed_target(target: Any, n: int, eps: float, weights: list | None) -> list[float]:
    """c_j = (1 - eps) w_t [j == t] + eps w_j / n."""
    t = _class_index(target)
    if not 0 <= t < n:
        raise ValueError(f"class index {t} is out of range for {n} logits")
    c = [eps / n] * n if weights is None else [eps / n * w for w in weights]
    c[t] += 1.0 - eps if weights is None else (1.0 - eps) * weights[t]
    return c


def _cross_entropy_value(data: list[float], constant: tuple) -> float:
    """-sum_j c_j log_softmax(z)_j, log_softmax = (z - max) - log(sum e^(z - max)) as torch computes it;
    classes with c_j = 0 are left out, so a masked logit (-inf) adds nothing instead of 0 * -inf = nan."""
    m, s = fl.logsumexp_parts(data)
    log_s = fl.log(s)
    return -sum([cj * ((d - m) - log_s) for cj, d in zip(constant[0], data) if cj != 0.0])


def _recompute_cross_entropy(parents: tuple, constant: tuple) -> tuple:
    c, target, eps, weights = constant
    data = [z.data for z in parents]
    if isinstance(target, Scalar):  # a fed target: the class may have changed
        c[:] = _smoothed_target(target, len(data), eps, weights)
    y = _cross_entropy_value(data, constant)
    return y, _cross_entropy_rule(FloatMath, data, y, constant)


_cross_entropy = Op("cross_entropy", _cross_entropy_value, _cross_entropy_rule, arity="n", constant=True,
                    recompute=_recompute_cross_entropy)


def _cross_entropy_node(logits: list, constant: tuple) -> Scalar:
    zs = tuple([_scalar(z) for z in logits])  # a list first: tuple(generator) over-allocates
    y, local = _recompute_cross_entropy(zs, constant)
    return make_node(_cross_entropy, zs, y, constant, local)


def _samples(fn: str, input: Nested) -> tuple[list[list], tuple[int, ...], int]:
    """The input's per-sample class lists (classes on dimension 1, or 0 for a (C,) input), row-major over
    the other dimensions; the shape of one value per sample, and the number of classes."""
    dims, elements = read_tensor(input, fn, "input")
    n = dims[min(1, len(dims) - 1)] if dims else 0
    if n == 0:
        raise ValueError(f"{fn}: input needs a dimension of classes, not empty, got shape {dims}")
    if len(dims) <= 2:
        return [elements[k:k + n] for k in range(0, len(elements), n)], dims[:-1], n
    inner = math.prod(dims[2:])
    samples = [[elements[(b * n + j) * inner + k] for j in range(n)]
               for b in range(dims[0]) for k in range(inner)]
    return samples, (dims[0], *dims[2:]), n


def _class_weights(fn: str, weight: Any, n: int) -> list[float] | None:
    if weight is None:
        return None
    dims, values = regular_leaves(to_lists(weight), "weight", f"{fn}: weight")
    if dims != (n,):
        raise ValueError(f"{fn}: weight must hold one number per class ({n}), got shape {dims}")
    return [number(w, f"{fn}: a weight") for w in values]


def _class_targets(fn: str, target: Any, sample_dims: tuple, ignore_index: int) -> list:
    """The class targets, one per sample (Scalars kept, for a Replay), checked; None for an ignored one."""
    dims, targets = regular_leaves(to_lists(target), "target", f"{fn}: target")
    kept = []
    for i, t in enumerate(targets):
        try:
            ignored = _class_index(t) == ignore_index
        except (TypeError, ValueError) as e:
            raise type(e)(f"{fn}: sample {i}: {e}") from None
        if ignored and isinstance(t, Scalar) and building_replay():
            raise ValueError(f"{fn}: sample {i}'s fed target is ignore_index ({ignore_index}): a Replay keeps"
                             " the graph's structure, so it cannot leave out a sample by its target's value")
        kept.append(None if ignored else t)
    if dims != sample_dims:  # after the types: a string is a TypeError, as in torch
        raise ValueError(f"{fn}: target must have shape {sample_dims} (a class index per sample), got {dims}")
    return kept


def _class_reduced(fn: str, losses: list, targets: list, weights: list | None, dims: tuple, reduction: str):
    """Class losses reduced as torch does: the mean divides by the summed weights of the targets kept (their
    count without weights); an ignored sample's loss is 0."""
    reduction = one_of(reduction, f"{fn} reduction", _REDUCTIONS)
    kept = [v for v in losses if v is not None]
    if reduction == "none":
        return nest([Scalar(0.0) if v is None else v for v in losses], dims)
    if reduction == "sum" or weights is None:
        return _reduced(kept, (len(kept),), reduction, fn)
    if building_replay() and any(isinstance(t, Scalar) for t in targets):
        raise ValueError(f"{fn}: with weight and reduction='mean' the mean divides by the weights of the "
                         "targets, which a Replay cannot recompute when it feeds them; use reduction='sum'")
    return sum_of(kept) / sum([weights[_class_index(t)] for t in targets if t is not None])


def cross_entropy(input: Nested, target: Nested, weight: Nested | None = None, ignore_index: int = -100,
                  reduction: str = "mean", label_smoothing: float = 0.0) -> Any:
    """Cross-entropy of raw logits (log-softmax inside), as ``torch.nn.functional.cross_entropy``.

    ``input``: logits of shape (C,), (N, C) or (N, C, d1, ...). ``target``: class indices of shape (),
    (N,) or (N, d1, ...), or class probabilities of the input's shape. ``weight``: one number per class.
    Samples whose index is ``ignore_index`` add nothing; ``'mean'`` divides by the summed weights of the
    others' classes (nan when every sample is ignored), or by N for probabilities. ``label_smoothing``
    mixes the target with the uniform distribution. Each sample is one node, exact for any logits.

    >>> from scalargrad import Scalar
    >>> round(cross_entropy([Scalar(2.0), Scalar(0.0)], 0).data, 4)
    0.1269
    """
    fn = "cross_entropy"
    eps = unit_interval(label_smoothing, f"{fn}: label_smoothing")
    ignore_index = integer(ignore_index, f"{fn}: ignore_index")
    samples, sample_dims, n = _samples(fn, input)
    weights = _class_weights(fn, weight, n)
    if len(shape(to_lists(target))) > len(sample_dims):  # the input's shape: class probabilities
        return _soft_cross_entropy(samples, target, weights, n, sample_dims, reduction, eps, ignore_index)
    targets = _class_targets(fn, target, sample_dims, ignore_index)
    losses = _per_sample(fn, samples, targets, lambda logits, t: _cross_entropy_node(
        logits, (_smoothed_target(t, n, eps, weights), t, eps, weights)))
    return _class_reduced(fn, losses, targets, weights, sample_dims, reduction)


def _per_sample(fn: str, samples: list, targets: list, loss_of) -> list:
    """``loss_of(sample, target)`` for each sample, None for an ignored one; errors name the sample."""
    losses = []
    for i, (sample, t) in enumerate(zip(samples, targets)):
        try:
            losses.append(None if t is None else loss_of(sample, t))
        except ValueError as e:
            raise ValueError(f"{fn}: sample {i}: {e}") from None
    return losses


def _soft_cross_entropy(samples, target, weights, n, sample_dims, reduction, eps, ignore_index,
                        fn="cross_entropy"):
    """Cross-entropy against class probabilities: c_j = w_j ((1 - eps) p_j + eps / n); mean: divided by N."""
    if ignore_index >= 0:
        raise ValueError(f"{fn}: ignore_index ({ignore_index}) applies to class indices, not probabilities")
    probabilities, target_dims, target_n = _samples(fn, target)
    if (target_dims, target_n) != (sample_dims, n):
        raise ValueError(f"{fn}: target of shape {shape(to_lists(target))} is neither class indices, one per "
                         f"sample (shape {sample_dims}), nor class probabilities of the input's shape")
    if building_replay() and any(isinstance(p, Scalar) for ps in probabilities for p in ps):
        raise ValueError(f"{fn}: a Replay cannot feed class probabilities (only class indices)")
    losses = []
    for logits, ps in zip(samples, probabilities):
        c = [_value(p) * (1.0 - eps) + eps / n if eps else float(_value(p)) for p in ps]
        if weights is not None:
            c = [cj * w for cj, w in zip(c, weights)]
        losses.append(_cross_entropy_node(logits, (c, None, eps, weights)))
    return _reduced(losses, sample_dims, reduction, fn)


def softmax_cross_entropy(pred: Nested, labels: Nested) -> Scalar:
    """PyGrad's name for ``cross_entropy(pred, labels)`` with class indices (the mean)."""
    return cross_entropy(pred, labels)


def nll_loss(input: Nested, target: Nested, weight: Nested | None = None, ignore_index: int = -100,
             reduction: str = "mean") -> Any:
    """Negative log-likelihood ``-weight[t] * input[t]`` of log-probabilities (``log_softmax``'s), as
    ``torch.nn.functional.nll_loss``; shapes, ``weight``, ``ignore_index`` and ``reduction`` as in
    ``cross_entropy`` with class indices."""
    fn = "nll_loss"
    ignore_index = integer(ignore_index, f"{fn}: ignore_index")
    samples, sample_dims, n = _samples(fn, input)
    weights = _class_weights(fn, weight, n)
    targets = _class_targets(fn, target, sample_dims, ignore_index)

    def picked(logp: list, t: Any) -> Scalar:
        if isinstance(t, Scalar) and building_replay():
            raise ValueError("NLLLoss picks an output by the target's value, so its graph changes with the "
                             "targets and cannot be replayed; use CrossEntropyLoss on the logits")
        k = _class_index(t)
        if not 0 <= k < n:
            raise ValueError(f"class index {k} is out of range for {n} outputs")
        return -_scalar(logp[k]) if weights is None else _scalar(logp[k]) * -weights[k]

    losses = _per_sample(fn, samples, targets, picked)
    return _class_reduced(fn, losses, targets, weights, sample_dims, reduction)


# ---- one node per element, keeping its target ---------------------------------------------------------
# The node's constant holds the target: a number, or the Scalar a Replay feeds it through.

_relu_rule = SCALAR_OPS["relu"].derivative  # relu's rule, reused


def _hinge_value(score: float, t) -> float:
    t = _value(t)
    if t != 1.0 and t != -1.0:
        raise ValueError(f"HingeLoss targets must be -1 or 1, got {t}")
    return fl.relu(1.0 - score * t)


def _hinge_rule(maths, score, y, constant):  # y = relu(1 - t score): relu's rule (0 where y <= 0) times -t
    return _relu_rule(maths, y, y, None) * -_value(constant)


_hinge = Op("hinge", _hinge_value, _hinge_rule, constant=True)

_BCE_EPS = 9.999999960041972e-13  # PyTorch clamps the gradient's denominator here: 1e-12 as a float32
_LOG_FLOOR = -100.0  # and each log term here, so p = 0 or 1 gives a finite loss


def _bce_value(p: float, t) -> float:
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"binary_cross_entropy expects probabilities in [0, 1], got {p}")
    t = _value(t)
    # log1p: exact for tiny p
    return -(t * max(fl.log(p), _LOG_FLOOR) + (1.0 - t) * max(fl.log1p(-p), _LOG_FLOOR))


def _bce_rule(maths, p, y, constant):  # y = -(t log p + (1 - t) log(1 - p))
    return maths.div(p - _value(constant), max((1.0 - p) * p, _BCE_EPS))


_bce = Op("bce", _bce_value, _bce_rule, constant=True)


# y = softplus(z) - t z; with a positive weight pw: (1 - t) z + (1 + (pw - 1) t) softplus(-z), as torch.
# The constant is (target, pw or None).

def _bce_with_logits_value(z: float, constant: tuple) -> float:
    t, pos_weight = _value(constant[0]), constant[1]
    if pos_weight is None:
        return fl.softplus(z) - t * z
    return (1.0 - t) * z + (1.0 + (pos_weight - 1.0) * t) * fl.softplus(-z)


def _bce_with_logits_rule(maths, z, y, constant):
    t, pos_weight = _value(constant[0]), constant[1]
    if pos_weight is None:
        return maths.sigmoid(z) - t
    return (1.0 - t) - (1.0 + (pos_weight - 1.0) * t) * maths.sigmoid(-z)


_bce_with_logits = Op("bce_logits", _bce_with_logits_value, _bce_with_logits_rule, constant=True)


def _node_losses(fn: str, op: Op, input, target, reduction: str, weight=None, pos_weight=None):
    """One node of ``op`` per element, over the element (a Scalar) with its target in the constant (with
    ``pos_weight``: (target, pos_weight)), times ``weight``'s element where given."""
    dims, rows = _rows(fn, input, target, True, weight=weight, pos_weight=pos_weight)
    losses = []
    for row in rows:
        x, constant = _scalar(row[0]), row[1]
        if op is _bce_with_logits:
            constant = (constant, None if pos_weight is None else number(row[-1], f"{fn}: pos_weight"))
        y = make_node(op, (x,), op.value(x.data, constant), constant)
        losses.append(y if weight is None else y * row[2])
    return _reduced(losses, dims, reduction, fn)


def binary_cross_entropy(input: Nested, target: Nested, weight: Nested | None = None,
                         reduction: str = "mean") -> Any:
    """``-weight (t log p + (1 - t) log(1 - p))`` of probabilities ``p`` in [0, 1], as
    ``torch.nn.functional.binary_cross_entropy``: each log floored at -100, so p = 0 or 1 gives a finite
    loss. ``target`` has the input's shape; ``weight`` broadcasts to it."""
    return _node_losses("binary_cross_entropy", _bce, input, target, reduction, weight)


def binary_cross_entropy_with_logits(input: Nested, target: Nested, weight: Nested | None = None,
                                     reduction: str = "mean", pos_weight: Nested | None = None) -> Any:
    """``binary_cross_entropy(sigmoid(input), target)`` computed from the logits, stable for any size, as
    ``torch.nn.functional.binary_cross_entropy_with_logits``; ``pos_weight`` (numbers that broadcast to the
    input, e.g. one per class) weighs the positive term ``t log sigmoid(z)``."""
    return _node_losses("binary_cross_entropy_with_logits", _bce_with_logits, input, target, reduction,
                        weight, pos_weight)


def hinge_loss(input: Nested, target: Nested, reduction: str = "mean") -> Any:
    """The max-margin loss ``max(0, 1 - target * input)`` with targets -1 or 1 (micrograd's moon demo; not a
    torch function), one node per element; ``nn.HingeLoss`` calls it."""
    return _node_losses("hinge_loss", _hinge, input, target, reduction)
