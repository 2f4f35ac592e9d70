"""Adadelta: the ``adadelta`` update on floats, and the ``Adadelta`` optimizer around it."""

from __future__ import annotations

from typing import Any

from ..._util import checks
from .floats import directed_gradients, div, sqrt
from .optimizer import Optimizer, Parameters, ParamGroup, gather, write_back

__all__ = ["Adadelta", "adadelta"]


def adadelta(params: list[float], grads: list[float], square_avgs: list[float], acc_deltas: list[float],
             steps: list[int], *, lr: float, rho: float, eps: float, weight_decay: float,
             maximize: bool) -> None:
    """One Adadelta step, the maths of torch's ``_single_tensor_adadelta``.

    Every list but ``grads`` is updated in place.

    >>> params, square_avgs, acc_deltas, steps = [1.0], [0.0], [0.0], [0]
    >>> adadelta(params, [0.5], square_avgs, acc_deltas, steps, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0.0,
    ...          maximize=False)
    >>> round(params[0], 6), steps
    (0.996838, [1])
    """
    # A whole list at a time, one formula per line: per parameter the same float operations in the
    # same order as a loop would do (so the same bits), and list comprehensions run faster.
    steps[:] = [step + 1 for step in steps]
    grads = directed_gradients(grads, params, weight_decay, maximize)
    one_minus_rho = 1.0 - rho
    square_avgs[:] = [v * rho + one_minus_rho * grad * grad for v, grad in zip(square_avgs, grads)]
    # Each step is the gradient scaled by RMS(past steps) / RMS(past gradients): units match the parameter's.
    deltas = [div(sqrt(u + eps), sqrt(v + eps)) * grad for u, v, grad in zip(acc_deltas, square_avgs, grads)]
    acc_deltas[:] = [u * rho + one_minus_rho * delta * delta for u, delta in zip(acc_deltas, deltas)]
    params[:] = [param - lr * delta for param, delta in zip(params, deltas)]


class Adadelta(Optimizer):
    """Adadelta (Zeiler); torch.optim.Adadelta.

    ``v = rho * v + (1 - rho) * g^2``, ``delta = sqrt(u + eps) / sqrt(v + eps) * g``,
    ``u = rho * u + (1 - rho) * delta^2``, ``p -= lr * delta``.

    >>> from scalargrad import Scalar
    >>> w = Scalar(0.5)
    >>> opt = Adadelta([w], lr=1.0, rho=0.9)
    >>> (w * w).backward()
    >>> opt.step()
    >>> round(w.data, 6)  # a small first step: sqrt(eps) / sqrt((1 - rho) * g^2 + eps) * g
    0.496838
    """

    def __init__(self, parameters: Parameters, lr: float = 1.0, rho: float = 0.9, eps: float = 1e-6,
                 weight_decay: float = 0, *, maximize: bool = False) -> None:
        defaults = {"lr": lr, "rho": rho, "eps": eps, "weight_decay": weight_decay, "maximize": maximize}
        super().__init__(parameters, defaults)

    def _check_hyper(self, group: ParamGroup, where: str, loading: bool) -> dict[str, Any]:
        return {"rho": checks.unit_interval(group["rho"], "rho", include_one=True, where=where)}

    _all_state_keys = ("step", "square_avg", "acc_delta")

    def _initial_state(self, group: ParamGroup) -> dict[str, Any]:
        return {"step": 0, "square_avg": 0.0, "acc_delta": 0.0}

    def _step_group(self, group: ParamGroup) -> None:
        lists = gather(group, self.state, self._initial_state(group))
        state = lists.state
        adadelta(lists.values, lists.grads, state["square_avg"], state["acc_delta"], state["step"],
                 lr=group["lr"], rho=group["rho"], eps=group["eps"], weight_decay=group["weight_decay"],
                 maximize=group["maximize"])
        write_back(lists)
