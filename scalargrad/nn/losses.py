"""Loss classes over a batch, each calling its function in ``scalargrad.losses`` (``F.cross_entropy``, ...).

Each loss takes ``outputs`` (one model output per sample) and ``targets``
and returns one Scalar (``reduction='mean'`` or ``'sum'``) or a list of
per-sample losses (``reduction='none'``). Outputs and targets may be
numpy arrays (a loss reads them as the lists ``tolist()`` gives). The classes
check the batch (one target per output, with a hint for one sample given where a
batch belongs); the functions hold the maths: cross-entropy and the binary losses
are one fused node per sample, so logits of any magnitude give a finite loss and
gradient.
"""

from __future__ import annotations

from collections.abc import Sequence

from .. import losses as F
from .._util.checks import is_number, one_of, unit_interval
from .._util.nested import to_lists
from ..extend import Scalar
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

    def _per_pair(self, outputs, targets, loss_function):
        """``loss_function`` over the flattened (output, target) pairs of the batch."""
        pairs = _pairs(outputs, targets, type(self).__name__)
        return loss_function([o for o, _ in pairs], [t for _, t in pairs], reduction=self.reduction)

    def extra_repr(self) -> str:
        return f"reduction={self.reduction!r}"


def _class_batch(outputs, targets, who: str) -> tuple:
    """A batch of class outputs: lists of one non-empty list per sample and one target per sample."""
    outputs, targets = _batch(outputs, targets, who, outputs_are_lists=True)
    for i, logits in enumerate(outputs):
        if not isinstance(logits, (list, tuple)) or not logits:
            raise ValueError(f"{who}: output {i} must be a non-empty list of logits")
    return outputs, targets


class CrossEntropyLoss(_Loss):
    """Cross-entropy over raw logits (log-softmax inside), as ``torch.nn.CrossEntropyLoss``
    (``scalargrad.losses.cross_entropy`` on the batch).

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
        outputs, targets = _class_batch(outputs, targets, "CrossEntropyLoss")
        return F.cross_entropy(list(outputs), list(targets), reduction=self.reduction,
                               label_smoothing=self.label_smoothing)


class NLLLoss(_Loss):
    """Negative log-likelihood of log-probabilities (e.g. from ``functional.log_softmax``), as
    ``torch.nn.NLLLoss`` (``scalargrad.losses.nll_loss`` on the batch)."""

    def forward(self, outputs: Sequence[Sequence[Scalar]], targets: Sequence[int]):
        """``-outputs[i][targets[i]]``, reduced over the batch."""
        outputs, targets = _class_batch(outputs, targets, "NLLLoss")
        return F.nll_loss(list(outputs), list(targets), reduction=self.reduction)


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
    """Mean squared error; outputs are 1-element lists (or Scalars), targets floats
    (``scalargrad.losses.mse_loss`` on the pairs).

    >>> round(MSELoss()([[Scalar(1.0)], [Scalar(3.0)]], [0.0, 2.0]).data, 3)
    1.0
    """

    def forward(self, outputs, targets):
        """Mean (or sum) of ``(output - target) ** 2``."""
        return self._per_pair(outputs, targets, F.mse_loss)


class L1Loss(_Loss):
    """Mean absolute error (``scalargrad.losses.l1_loss`` on the pairs)."""

    def forward(self, outputs, targets):
        """Mean (or sum) of ``|output - target|``."""
        return self._per_pair(outputs, targets, F.l1_loss)


class HingeLoss(_Loss):
    """Max-margin loss ``max(0, 1 - y * score)`` with targets -1 or +1 (micrograd's moon demo;
    ``scalargrad.losses.hinge_loss`` on the pairs)."""

    def forward(self, outputs, targets):
        """Mean (or sum) of ``relu(1 - target * score)``, one node per sample."""
        return self._per_pair(outputs, targets, F.hinge_loss)


class BCELoss(_Loss):
    """Binary cross-entropy on probabilities in [0, 1] (log terms floored at -100, as PyTorch;
    ``scalargrad.losses.binary_cross_entropy`` on the pairs)."""

    def forward(self, outputs, targets):
        """Mean (or sum) of ``-(t log p + (1 - t) log(1 - p))``."""
        return self._per_pair(outputs, targets, F.binary_cross_entropy)


class BCEWithLogitsLoss(_Loss):
    """Binary cross-entropy on logits, stable for any magnitude (sigmoid inside;
    ``scalargrad.losses.binary_cross_entropy_with_logits`` on the pairs)."""

    def forward(self, outputs, targets):
        """Mean (or sum) of ``softplus(z) - t z``."""
        return self._per_pair(outputs, targets, F.binary_cross_entropy_with_logits)
