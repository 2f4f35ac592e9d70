"""Stochastic gradient descent: the ``sgd`` update on floats, and the ``SGD`` optimizer around it."""

from __future__ import annotations

from typing import Any

from ..._util import checks
from ...scalar import Scalar
from .floats import directed_gradients
from .optimizer import Optimizer, Parameters, ParamGroup, gather, write_back

__all__ = ["SGD", "sgd"]


def sgd(params: list[float], grads: list[float], momentum_buffers: list[float | None], *, lr: float,
        momentum: float, dampening: float, weight_decay: float, nesterov: bool, maximize: bool) -> None:
    """One SGD step, the maths of torch's ``_single_tensor_sgd``.

    ``params`` and ``momentum_buffers`` are updated in place; a buffer that is None (the
    parameter's first step with momentum) starts at the gradient.

    >>> params, buffers = [1.0], [None]
    >>> sgd(params, [0.5], buffers, lr=0.1, momentum=0.9, dampening=0.0, weight_decay=0.0,
    ...     nesterov=False, maximize=False)
    >>> params, buffers
    ([0.95], [0.5])
    """
    # Whole-list steps (as torch's _multi_tensor_sgd): the same float operations in the same
    # order as a per-parameter loop, so the same bits, but list comprehensions run faster.
    grads = directed_gradients(grads, params, weight_decay, maximize)
    if momentum != 0.0:
        # torch starts a buffer at the first gradient, without dampening
        momentum_buffers[:] = [grad if buf is None else buf * momentum + (1.0 - dampening) * grad
                               for buf, grad in zip(momentum_buffers, grads)]
        if nesterov:
            grads = [grad + momentum * buf for grad, buf in zip(grads, momentum_buffers)]
        else:
            grads = momentum_buffers
    params[:] = [param - lr * grad for param, grad in zip(params, grads)]


def _plain_sgd_in_place(params: list[Scalar], lr: float) -> list[Scalar]:
    """Plain SGD (``sgd`` without momentum, weight decay or maximize) on each parameter whose grad is a
    float: ``p.data - lr * p.grad``, the same float operations as ``sgd``. Returns the parameters it left
    (a grad that is None, an int or a Scalar), for the general path.

    >>> w = Scalar(2.0); w.grad = 0.5
    >>> _plain_sgd_in_place([w], lr=0.1), w.data
    ([], 1.95)
    """
    # The common step done in one pass over the parameters: gather(), sgd() and write_back() pass over
    # them three times, and a large model's Scalars do not stay in the cache between passes (7 ms for the
    # 50k parameters of a 784-64-10 MLP against 4 ms).
    rest = []
    for p in params:
        grad = p.grad
        if type(grad) is float:
            p.data -= lr * grad
        else:
            rest.append(p)
    return rest


class SGD(Optimizer):
    """Stochastic gradient descent, optionally with momentum, Nesterov momentum and weight decay.

    As torch.optim.SGD: ``g = grad + weight_decay * p``; with momentum
    ``buf = g`` on the first step, then ``buf = momentum * buf + (1 - dampening) * g``;
    the step uses ``g + momentum * buf`` (Nesterov) or ``buf``; ``p -= lr * step``.
    ``momentum=None`` (the original API) or 0 means plain SGD.

    >>> from scalargrad import Scalar
    >>> w = Scalar(2.0)
    >>> opt = SGD(parameters=[w], lr=0.1, momentum=None)
    >>> loss = w * w  # its gradient is 2 * w = 4.0
    >>> loss.backward()
    >>> opt.step()
    >>> w.data  # 2.0 - 0.1 * 4.0
    1.6
    """

    def __init__(self, parameters: Parameters, lr: float, momentum: float | None = None,
                 nesterov: bool = False, weight_decay: float = 0.0, dampening: float = 0.0,
                 *, maximize: bool = False) -> None:
        defaults = {"lr": lr, "momentum": momentum, "dampening": dampening, "weight_decay": weight_decay,
                    "nesterov": nesterov, "maximize": maximize}
        super().__init__(parameters, defaults)

    def _check_hyper(self, group: ParamGroup, where: str, loading: bool) -> dict[str, Any]:
        out: dict[str, Any] = {}
        momentum = group.get("momentum")
        # momentum=None: the original scalargrad's API
        out["momentum"] = 0.0 if momentum is None else checks.nonnegative(momentum, "momentum", where)
        out["dampening"] = checks.number(group.get("dampening", 0.0), "dampening", where)
        out["nesterov"] = checks.boolean(group.get("nesterov", False), "nesterov", where)
        if out["nesterov"] and (out["momentum"] <= 0.0 or out["dampening"] != 0.0):
            raise ValueError(f"nesterov momentum requires a positive momentum and zero dampening{where}")
        return out

    _all_state_keys = ("momentum_buffer",)

    def _initial_state(self, group: ParamGroup) -> dict[str, Any]:
        # None: sgd() starts a buffer at the parameter's first gradient. Plain SGD keeps no state.
        return {"momentum_buffer": None} if group["momentum"] != 0.0 else {}

    def _step_group(self, group: ParamGroup) -> None:
        if group["momentum"] == 0.0 and group["weight_decay"] == 0.0 and not group["maximize"]:
            rest = _plain_sgd_in_place(group["params"], group["lr"])
            if not rest:
                return
            group = {**group, "params": rest}
        lists = gather(group, self.state, self._initial_state(group))
        sgd(lists.values, lists.grads, lists.state.get("momentum_buffer", []), lr=group["lr"],
            momentum=group["momentum"], dampening=group["dampening"], weight_decay=group["weight_decay"],
            nesterov=group["nesterov"], maximize=group["maximize"])
        write_back(lists)
