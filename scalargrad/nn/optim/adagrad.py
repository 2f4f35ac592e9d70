"""Adagrad: the ``adagrad`` update on floats, and the ``Adagrad`` optimizer around it."""

from __future__ import annotations

from typing import Any

from ..._util import checks
from .floats import directed_gradients, div, sqrt
from .optimizer import Optimizer, Parameters, ParamGroup, gather, write_back

__all__ = ["Adagrad", "adagrad"]


def adagrad(params: list[float], grads: list[float], state_sums: list[float], steps: list[int], *, lr: float,
            lr_decay: float, weight_decay: float, eps: float, maximize: bool) -> None:
    """One Adagrad step, the maths of torch's ``_single_tensor_adagrad``.

    Every list but ``grads`` is updated in place.

    >>> params, sums, steps = [1.0], [0.0], [0]
    >>> adagrad(params, [0.5], sums, steps, lr=0.1, lr_decay=0.0, weight_decay=0.0, eps=1e-10, maximize=False)
    >>> round(params[0], 6), sums, steps
    (0.9, [0.25], [1])
    """
    # A whole list at a time, one formula per line: per parameter the same float operations in the
    # same order as a loop would do (so the same bits), and list comprehensions run faster.
    steps[:] = [step + 1 for step in steps]
    grads = directed_gradients(grads, params, weight_decay, maximize)
    # The decayed lr depends only on the step count, which parameters usually share: compute it once.
    clrs = {step: lr / (1.0 + (step - 1) * lr_decay) for step in set(steps)}
    state_sums[:] = [total + grad * grad for total, grad in zip(state_sums, grads)]
    params[:] = [param - div(clrs[step] * grad, sqrt(total) + eps)
                 for param, grad, total, step in zip(params, grads, state_sums, steps)]


class Adagrad(Optimizer):
    """Adagrad (Duchi et al.); torch.optim.Adagrad.

    ``sum += g^2``, ``p -= lr / (1 + (t - 1) * lr_decay) * g / (sqrt(sum) + eps)``,
    with ``sum`` starting at ``initial_accumulator_value``.

    >>> from scalargrad import Scalar
    >>> w = Scalar(0.5)
    >>> opt = Adagrad([w], lr=1e-2, lr_decay=1e-3)
    >>> (w * w).backward()
    >>> opt.step()
    >>> round(w.data, 6), opt.state[w]  # the first step is lr long: g / sqrt(g^2)
    (0.49, {'step': 1, 'sum': 1.0})
    """

    def __init__(self, parameters: Parameters, lr: float = 1e-2, lr_decay: float = 0,
                 weight_decay: float = 0, initial_accumulator_value: float = 0, eps: float = 1e-10,
                 *, maximize: bool = False) -> None:
        defaults = {"lr": lr, "lr_decay": lr_decay, "weight_decay": weight_decay,
                    "initial_accumulator_value": initial_accumulator_value, "eps": eps, "maximize": maximize}
        super().__init__(parameters, defaults)

    def _check_hyper(self, group: ParamGroup, where: str, loading: bool) -> dict[str, Any]:
        return {"lr_decay": checks.nonnegative(group["lr_decay"], "lr_decay", where),
                "initial_accumulator_value": checks.nonnegative(group["initial_accumulator_value"],
                                                                "initial_accumulator_value", where)}

    _all_state_keys = ("step", "sum")

    def _initial_state(self, group: ParamGroup) -> dict[str, Any]:
        return {"step": 0, "sum": group["initial_accumulator_value"]}

    def _step_group(self, group: ParamGroup) -> None:
        lists = gather(group, self.state, self._initial_state(group))
        adagrad(lists.values, lists.grads, lists.state["sum"], lists.state["step"], lr=group["lr"],
                lr_decay=group["lr_decay"], weight_decay=group["weight_decay"], eps=group["eps"],
                maximize=group["maximize"])
        write_back(lists)
