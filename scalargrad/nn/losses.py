"""Loss functions over a batch.

Each loss takes ``outputs`` (one model output per sample) and ``targets``
and returns one Scalar (``reduction='mean'`` or ``'sum'``) or a list of
per-sample losses (``reduction='none'``). Outputs and targets may be
numpy arrays (a loss reads them as the lists ``tolist()`` gives). Cross-entropy
and the binary losses are one fused node per sample, written so that logits of
any magnitude give a finite loss and gradient.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from .. import _floats as fl
from .. import functional as F
from .._util.checks import integer, is_number, one_of, unit_interval
from .._util.nested import to_lists
from ..extend import FloatMath, Op, Scalar, building_replay, make_node
from .module import Module

__all__ = ["BCELoss", "BCEWithLogitsLoss", "CrossEntropyLoss", "HingeLoss", "L1Loss", "MSELoss", "NLLLoss"]

_REDUCTIONS = ("mean", "sum", "none")


# What a loss says when it looks given one sample where it takes a batch (a model's output and its target).
_ONE_SAMPLE = ("; a loss takes a batch, one output and one target per sample: "
               "for one sample, write loss_fn([output], [target])")


def _batch(outputs, targets, who: str, outputs_are_lists: bool = False) -> tuple:
    """The batch's outputs and targets (numpy arrays as lists), checked to pair up one to one.

    ``outputs_are_lists``: each sample's output must be a list (the logits of a class loss),
    so a flat list of Scalars is one sample's output, not a batch.
    """
    outputs, targets = to_lists(outputs, deep=False), to_lists(targets, deep=False)
    if not isinstance(outputs, (list, tuple)) or not isinstance(targets, (list, tuple)):
        hint = _ONE_SAMPLE if isinstance(outputs, (list, tuple, Scalar)) else ""
        raise TypeError(f"{who} expects a list of outputs and a list of targets, got a "
                        f"{type(outputs).__name__} and a {type(targets).__name__}{hint}")
    if len(outputs) == 0:
        raise ValueError(f"{who} got an empty batch")
    flat = not isinstance(outputs[0], (list, tuple))  # one sample's output, or one value per sample
    if len(outputs) != len(targets):
        hint = _ONE_SAMPLE if flat else ""
        raise ValueError(f"{who} got {len(outputs)} outputs but {len(targets)} targets{hint}")
    if outputs_are_lists and flat and isinstance(outputs[0], Scalar):
        raise ValueError(f"{who} expects a list of logit lists, one per sample, got a list of "
                         f"{len(outputs)} Scalars{_ONE_SAMPLE}")
    return outputs, targets


def _class_index(t) -> int:
    """An int class id (numpy integers too, or a Scalar holding a whole number); TypeError for the rest."""
    if isinstance(t, Scalar):  # a Replay's fed target
        if not t.data.is_integer():
            raise ValueError(f"class targets must be whole numbers, got {t.data}")
        return int(t.data)
    try:
        return integer(t, "class target")
    except TypeError:
        raise TypeError(f"class targets must be ints, got {type(t).__name__}") from None


def _output_scalar(v, who: str) -> Scalar:
    """An output value: a Scalar, or a number (numpy's too, never a bool) made one, alone or in a 1-element
    list."""
    if isinstance(v, Scalar):
        return v
    if isinstance(v, (list, tuple)) and len(v) == 1:
        return _output_scalar(v[0], who)
    if is_number(v):
        return Scalar(v)
    # ValueError for a wrong type, against the policy: test_losses_take_numpy_outputs pins it
    raise ValueError(f"{who} expects each output to be a Scalar or a 1-element list, got {v!r}"[:200])


def _target_number(v, who: str) -> float:
    """A target value as a float: a number (numpy's too, never a bool) or a Scalar's value, alone or in a
    1-element list."""
    if isinstance(v, Scalar):
        return v.data
    if isinstance(v, (list, tuple)) and len(v) == 1:
        return _target_number(v[0], who)
    if not is_number(v):
        raise TypeError(f"{who} targets must be numbers, got {type(v).__name__}")
    return float(v)


class _Loss(Module):
    def __init__(self, reduction: str = "mean") -> None:
        super().__init__()
        self.reduction = one_of(reduction, "reduction", _REDUCTIONS)

    def _reduce(self, losses: list):
        if self.reduction == "none":
            return losses
        return F.mean(losses) if self.reduction == "mean" else F.sum(losses)

    def _per_element(self, outputs, targets, op: Op):
        """One node of ``op`` per (output, target) pair, the target its constant."""
        who = type(self).__name__
        return self._reduce([make_node(op, (o,), op.value(o.data, t), t)
                             for o, t in _pairs(outputs, targets, who)])

    def extra_repr(self) -> str:
        return f"reduction={self.reduction!r}"


# ---- cross-entropy: one node per sample ----------------------------------------------
# y = logsumexp(z) - sum_j c_j z_j with c_j = (1 - eps) [j == t] + eps / n
# dy/dz_j = softmax(z)_j - c_j
# The node's constant is (c, target, eps); target is the class id, or the Scalar
# holding it when a Replay feeds the targets.

def _cross_entropy_rule(maths, zs, y, constant):
    """softmax(z) - c, with softmax_j = e^((z_j - max) - log(sum e^(z - max))): exact for logits of any size.

    On Scalars (create_graph) the log of the sum is a recorded expression, so higher derivatives flow through
    it.
    """
    m = max(getattr(z, "data", z) for z in zs)
    shifted = [z - m for z in zs] if math.isfinite(m) else list(zs)
    log_s = maths.log(sum([maths.exp(v) for v in shifted]))
    return [maths.exp(v - log_s) - cj for v, cj in zip(shifted, constant[0])]


def _smoothed_target(target, n: int, eps: float) -> list[float]:
    """c_j = (1 - eps) [j == target] + eps / n."""
    t = _class_index(target)
    if not 0 <= t < n:
        raise ValueError(f"class index {t} is out of range for {n} logits")
    c = [eps / n] * n
    c[t] += 1.0 - eps
    return c


def _cross_entropy_value(data: list[float], ctx: tuple) -> float:
    """-sum_j c_j log_softmax(z)_j, with log_softmax = (z - max) - log(sum e^(z - max)) as torch computes it.

    Classes with c_j = 0 are left out, so a masked logit (-inf) adds nothing instead of 0 * -inf = nan.
    """
    m, s = fl.logsumexp_parts(data)
    log_s = fl.log(s)
    return -sum([cj * ((d - m) - log_s) for cj, d in zip(ctx[0], data) if cj != 0.0])


def _recompute_cross_entropy(parents: tuple, ctx: tuple) -> tuple:
    c, target, eps = ctx
    data = [z.data for z in parents]
    if isinstance(target, Scalar):  # a fed target: the class may have changed
        c[:] = _smoothed_target(target, len(data), eps)
    y = _cross_entropy_value(data, ctx)
    return y, _cross_entropy_rule(FloatMath, data, y, ctx)


_cross_entropy = Op("cross_entropy", _cross_entropy_value, _cross_entropy_rule, arity="n", constant=True,
                    recompute=_recompute_cross_entropy)


def cross_entropy(logits: Sequence[Scalar], target: int | Scalar, label_smoothing: float = 0.0) -> Scalar:
    """Cross-entropy of one sample's logits against class ``target``, as one node."""
    ctx = (_smoothed_target(target, len(logits), label_smoothing), target, label_smoothing)
    # a list first: tuple(generator) over-allocates
    zs = tuple([z if isinstance(z, Scalar) else Scalar(z) for z in logits])
    y, local = _recompute_cross_entropy(zs, ctx)
    return make_node(_cross_entropy, zs, y, ctx, local)


class CrossEntropyLoss(_Loss):
    """Cross-entropy over raw logits (log-softmax inside), as ``torch.nn.CrossEntropyLoss``.

    ``outputs`` is a list of logit lists, ``targets`` a list of class ids.

    >>> loss = CrossEntropyLoss()([[Scalar(2.0), Scalar(0.0)]], [0])
    >>> round(loss.data, 4)
    0.1269
    """

    def __init__(self, reduction: str = "mean", label_smoothing: float = 0.0) -> None:
        super().__init__(reduction)
        # a number in [0, 1] (numpy numbers too): TypeError for a string or a bool, ValueError out of range
        self.label_smoothing = unit_interval(label_smoothing, "label_smoothing")

    def forward(self, outputs: Sequence[Sequence[Scalar]], targets: Sequence[int]):
        """Loss of a batch of logit lists against class ids."""
        outputs, targets = _batch(outputs, targets, "CrossEntropyLoss", outputs_are_lists=True)
        losses = []
        for i, (logits, t) in enumerate(zip(outputs, targets)):
            if not isinstance(logits, (list, tuple)) or not logits:
                raise ValueError(f"CrossEntropyLoss: output {i} must be a non-empty list of logits")
            try:
                losses.append(cross_entropy(logits, t, self.label_smoothing))
            except (ValueError, TypeError) as e:
                raise type(e)(f"CrossEntropyLoss, sample {i}: {e}") from None
        return self._reduce(losses)


class NLLLoss(_Loss):
    """Negative log-likelihood of log-probabilities (e.g. from ``functional.log_softmax``)."""

    def forward(self, outputs: Sequence[Sequence[Scalar]], targets: Sequence[int]):
        """``-outputs[i][targets[i]]``, reduced over the batch."""
        outputs, targets = _batch(outputs, targets, "NLLLoss", outputs_are_lists=True)
        picked = []
        for i, (logp, t) in enumerate(zip(outputs, targets)):
            if isinstance(t, Scalar) and building_replay():
                raise ValueError("NLLLoss picks an output by the target's value, so its graph changes "
                                 "with the targets and cannot be replayed; use CrossEntropyLoss on the "
                                 "logits instead")
            try:
                t = _class_index(t)
            except TypeError as e:
                raise TypeError(f"NLLLoss, sample {i}: {e}") from None
            if not 0 <= t < len(logp):
                raise ValueError(f"NLLLoss, sample {i}: class index {t} is out of range "
                                 f"for {len(logp)} outputs")
            picked.append(-_output_scalar(logp[t], "NLLLoss"))
        return self._reduce(picked)


# ---- regression ------------------------------------------------------------------------

def _pairs(outputs, targets, who: str):
    """Flatten outputs (Scalars or lists of them) and targets into matching (Scalar, target) pairs."""
    outputs, targets = _batch(outputs, targets, who)
    pairs = []
    for i, (o, t) in enumerate(zip(outputs, targets)):
        t = to_lists(t, deep=False)  # a sample's target may be a numpy array or number
        if isinstance(o, (list, tuple)):
            ts = t if isinstance(t, (list, tuple)) else [t]
            if len(ts) != len(o):
                raise ValueError(f"{who}: output {i} has {len(o)} values but its target has {len(ts)}")
            pairs.extend(zip(o, ts))
        else:
            pairs.append((o, t))
    return [(_output_scalar(o, who), t if isinstance(t, Scalar) else _target_number(t, who))
            for o, t in pairs]


class MSELoss(_Loss):
    """Mean squared error; outputs are 1-element lists (or Scalars), targets floats.

    >>> round(MSELoss()([[Scalar(1.0)], [Scalar(3.0)]], [0.0, 2.0]).data, 3)
    1.0
    """

    def forward(self, outputs, targets):
        """Mean (or sum) of ``(output - target) ** 2``."""
        losses = []
        for o, t in _pairs(outputs, targets, "MSELoss"):
            d = o - t
            losses.append(d * d)
        return self._reduce(losses)


class L1Loss(_Loss):
    """Mean absolute error."""

    def forward(self, outputs, targets):
        """Mean (or sum) of ``|output - target|``."""
        return self._reduce([(o - t).abs() for o, t in _pairs(outputs, targets, "L1Loss")])


# ---- one node per sample, keeping its target ------------------------------------------
# The node's constant is the target: a number, or the Scalar a Replay feeds it through.

def _target(t) -> float:
    return t.data if isinstance(t, Scalar) else t


_relu_rule = Scalar.relu.op.derivative


def _hinge_value(score: float, t) -> float:
    t = _target(t)
    if t != 1.0 and t != -1.0:
        raise ValueError(f"HingeLoss targets must be -1 or 1, got {t}")
    return fl.relu(1.0 - score * t)


def _hinge_rule(maths, score, y, constant):  # y = relu(1 - t score): relu's rule (0 where y <= 0) times -t
    return _relu_rule(maths, y, y, None) * -_target(constant)


_hinge = Op("hinge", _hinge_value, _hinge_rule, constant=True)


class HingeLoss(_Loss):
    """Max-margin loss ``max(0, 1 - y * score)`` with targets -1 or +1 (micrograd's moon demo)."""

    def forward(self, outputs, targets):
        """Mean (or sum) of ``relu(1 - target * score)``, one node per sample."""
        return self._per_element(outputs, targets, _hinge)


# ---- binary classification: one node per sample ------------------------------------

_BCE_EPS = 9.999999960041972e-13  # PyTorch clamps the gradient's denominator here: 1e-12 as a float32
_LOG_FLOOR = -100.0  # and each log term here, so p = 0 or 1 gives a finite loss


def _bce_value(p: float, t) -> float:
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"BCELoss expects probabilities in [0, 1], got {p}")
    t = _target(t)
    # log1p: exact for tiny p
    return -(t * max(fl.log(p), _LOG_FLOOR) + (1.0 - t) * max(fl.log1p(-p), _LOG_FLOOR))


def _bce_rule(maths, p, y, constant):  # y = -(t log p + (1 - t) log(1 - p))
    return maths.div(p - _target(constant), max((1.0 - p) * p, _BCE_EPS))


def _bce_with_logits_value(z: float, t) -> float:
    return fl.softplus(z) - _target(t) * z


def _bce_with_logits_rule(maths, z, y, constant):  # y = softplus(z) - t z
    return maths.sigmoid(z) - _target(constant)


_bce = Op("bce", _bce_value, _bce_rule, constant=True)
_bce_with_logits = Op("bce_logits", _bce_with_logits_value, _bce_with_logits_rule, constant=True)


class BCELoss(_Loss):
    """Binary cross-entropy on probabilities in [0, 1] (log terms floored at -100, as PyTorch)."""

    def forward(self, outputs, targets):
        """Mean (or sum) of ``-(t log p + (1 - t) log(1 - p))``."""
        return self._per_element(outputs, targets, _bce)


class BCEWithLogitsLoss(_Loss):
    """Binary cross-entropy on logits, stable for any magnitude (sigmoid inside)."""

    def forward(self, outputs, targets):
        """Mean (or sum) of ``softplus(z) - t z``."""
        return self._per_element(outputs, targets, _bce_with_logits)
