"""RMSprop: the ``rmsprop`` update on floats, and the ``RMSprop`` optimizer around it."""

from __future__ import annotations

from typing import Any

from ..._util import checks
from .floats import directed_gradients, div, lerp_each, sqrt
from .optimizer import Optimizer, Parameters, ParamGroup, gather, write_back

__all__ = ["RMSprop", "rmsprop"]


def rmsprop(params: list[float], grads: list[float], square_avgs: list[float], grad_avgs: list[float],
            momentum_buffers: list[float], steps: list[int], *, lr: float, alpha: float, eps: float,
            weight_decay: float, momentum: float, centered: bool, maximize: bool) -> None:
    """One RMSprop step, the maths of torch's ``_single_tensor_rmsprop``.

    Every list but ``grads`` is updated in place.

    ``grad_avgs`` is read only when ``centered``, ``momentum_buffers`` only with a positive ``momentum``.

    >>> params, square_avgs, steps = [1.0], [0.0], [0]
    >>> rmsprop(params, [0.5], square_avgs, [], [], steps, lr=0.01, alpha=0.99, eps=1e-8, weight_decay=0.0,
    ...         momentum=0.0, centered=False, maximize=False)
    >>> round(params[0], 6), steps
    (0.9, [1])
    """
    # A whole list at a time, one formula per line: per parameter the same float operations in the
    # same order as a loop would do (so the same bits), and list comprehensions run faster.
    steps[:] = [step + 1 for step in steps]
    grads = directed_gradients(grads, params, weight_decay, maximize)
    one_minus_alpha = 1.0 - alpha
    square_avgs[:] = [v * alpha + one_minus_alpha * grad * grad for v, grad in zip(square_avgs, grads)]
    if centered:  # subtract the squared running mean: a variance instead of a second moment
        grad_avgs[:] = lerp_each(grad_avgs, grads, one_minus_alpha)
        avgs = [sqrt(v - m * m) + eps for v, m in zip(square_avgs, grad_avgs)]
    else:
        avgs = [sqrt(v) + eps for v in square_avgs]
    if momentum > 0.0:
        momentum_buffers[:] = [buf * momentum + div(grad, avg)
                               for buf, grad, avg in zip(momentum_buffers, grads, avgs)]
        params[:] = [param - lr * buf for param, buf in zip(params, momentum_buffers)]
    else:
        params[:] = [param - div(lr * grad, avg) for param, grad, avg in zip(params, grads, avgs)]


class RMSprop(Optimizer):
    """RMSprop (Hinton), optionally centered and with momentum; torch.optim.RMSprop.

    ``v = alpha * v + (1 - alpha) * g^2``; centered also tracks ``gm = lerp(gm, g, 1 - alpha)``
    and uses ``v - gm^2``; ``avg = sqrt(...) + eps``; with momentum
    ``buf = momentum * buf + g / avg`` and ``p -= lr * buf``, else ``p -= lr * g / avg``.

    >>> from scalargrad import Scalar
    >>> w = Scalar(0.5)
    >>> opt = RMSprop([w], lr=1e-2, momentum=0.9, centered=True)
    >>> (w * w).backward()
    >>> opt.step()
    >>> round(w.data, 4)  # the first step is about lr * sqrt(1 / (1 - alpha)) long: 0.1
    0.3995
    >>> sorted(opt.state[w])
    ['grad_avg', 'momentum_buffer', 'square_avg', 'step']
    """

    def __init__(self, parameters: Parameters, lr: float = 1e-2, alpha: float = 0.99, eps: float = 1e-8,
                 weight_decay: float = 0, momentum: float = 0, centered: bool = False,
                 *, maximize: bool = False) -> None:
        defaults = {"lr": lr, "alpha": alpha, "eps": eps, "weight_decay": weight_decay, "momentum": momentum,
                    "centered": centered, "maximize": maximize}
        super().__init__(parameters, defaults)

    def _check_hyper(self, group: ParamGroup, where: str, loading: bool) -> dict[str, Any]:
        return {"alpha": checks.unit_interval(group["alpha"], "alpha", include_one=True, where=where),
                "momentum": checks.nonnegative(group["momentum"], "momentum", where),
                "centered": checks.boolean(group["centered"], "centered", where)}

    _all_state_keys = ("step", "square_avg", "momentum_buffer", "grad_avg")

    def _initial_state(self, group: ParamGroup) -> dict[str, Any]:
        state: dict[str, Any] = {"step": 0, "square_avg": 0.0}
        if group["momentum"] > 0.0:
            state["momentum_buffer"] = 0.0
        if group["centered"]:
            state["grad_avg"] = 0.0
        return state

    def _step_group(self, group: ParamGroup) -> None:
        lists = gather(group, self.state, self._initial_state(group))
        state = lists.state
        rmsprop(lists.values, lists.grads, state["square_avg"], state.get("grad_avg", []),
                state.get("momentum_buffer", []), state["step"], lr=group["lr"], alpha=group["alpha"],
                eps=group["eps"], weight_decay=group["weight_decay"], momentum=group["momentum"],
                centered=group["centered"], maximize=group["maximize"])
        write_back(lists)
