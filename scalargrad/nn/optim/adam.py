"""Adam and AdamW: the ``adam`` update on floats, and the optimizers around it."""

from __future__ import annotations

from typing import Any

from ..._util import checks
from .floats import div, lerp_each, maximum, sqrt
from .optimizer import Optimizer, Parameters, ParamGroup, gather, write_back

__all__ = ["Adam", "AdamW", "adam"]


def adam(params: list[float], grads: list[float], exp_avgs: list[float], exp_avg_sqs: list[float],
         max_exp_avg_sqs: list[float], steps: list[int], *, lr: float, beta1: float, beta2: float, eps: float,
         weight_decay: float, amsgrad: bool, maximize: bool, decoupled_weight_decay: bool) -> None:
    """One Adam step, the maths of torch's ``_single_tensor_adam``.

    Every list but ``grads`` is updated in place.

    ``max_exp_avg_sqs`` is read only with ``amsgrad``; ``steps`` counts each parameter's steps.

    >>> params, m, v, steps = [1.0], [0.0], [0.0], [0]
    >>> adam(params, [0.5], m, v, [], steps, lr=0.1, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0,
    ...      amsgrad=False, maximize=False, decoupled_weight_decay=False)
    >>> round(params[0], 6), steps
    (0.9, [1])
    """
    # A whole list at a time, one formula per line: per parameter the same float operations in the
    # same order as a loop would do (so the same bits), and list comprehensions run faster.
    if maximize:
        grads = [-grad for grad in grads]
    if weight_decay != 0.0:
        if decoupled_weight_decay:  # AdamW: shrink the parameters themselves
            params[:] = [param * (1.0 - lr * weight_decay) for param in params]
        else:  # L2: add the decay to the gradients
            grads = [grad + weight_decay * param for grad, param in zip(grads, params)]
    steps[:] = [step + 1 for step in steps]
    one_minus_beta1, one_minus_beta2 = 1.0 - beta1, 1.0 - beta2
    exp_avgs[:] = lerp_each(exp_avgs, grads, one_minus_beta1)
    exp_avg_sqs[:] = [v * beta2 + one_minus_beta2 * grad * grad for v, grad in zip(exp_avg_sqs, grads)]
    if amsgrad:
        max_exp_avg_sqs[:] = list(map(maximum, max_exp_avg_sqs, exp_avg_sqs))
    second_moments = max_exp_avg_sqs if amsgrad else exp_avg_sqs
    # The bias corrections depend only on the step count, which parameters usually share: compute each once.
    step_sizes = {step: lr / (1.0 - beta1 ** step) for step in set(steps)}
    bias_correction2_sqrts = {step: (1.0 - beta2 ** step) ** 0.5 for step in set(steps)}
    params[:] = [param - div(step_sizes[step] * m, sqrt(v) / bias_correction2_sqrts[step] + eps)
                 for param, m, v, step in zip(params, exp_avgs, second_moments, steps)]


class Adam(Optimizer):
    """Adam (Kingma & Ba), optionally AMSGrad; torch.optim.Adam's update.

    ``m = lerp(m, g, 1 - beta1)``, ``v = beta2 * v + (1 - beta2) * g^2``,
    ``p -= lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)``;
    with ``amsgrad`` the running maximum of ``v`` is used. ``weight_decay``
    adds ``weight_decay * p`` to the gradient (L2), or, with
    ``decoupled_weight_decay=True`` (that is AdamW), shrinks ``p`` by
    ``1 - lr * weight_decay`` before the step.

    >>> from scalargrad import Scalar
    >>> w = Scalar(0.5)
    >>> opt = Adam([w], lr=1e-3, betas=(0.9, 0.999))
    >>> (w * w).backward()
    >>> opt.step()
    >>> round(w.data, 6)  # Adam's first step is about lr long, whatever the gradient's size
    0.499
    >>> sorted(opt.state[w])  # the running averages of g and g^2, and the step count
    ['exp_avg', 'exp_avg_sq', 'step']
    """

    def __init__(self, parameters: Parameters, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0.0, amsgrad: bool = False,
                 *, maximize: bool = False, decoupled_weight_decay: bool = False) -> None:
        defaults = {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay, "amsgrad": amsgrad,
                    "maximize": maximize, "decoupled_weight_decay": decoupled_weight_decay}
        super().__init__(parameters, defaults)

    def _check_hyper(self, group: ParamGroup, where: str, loading: bool) -> dict[str, Any]:
        betas = group["betas"]
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise ValueError(f"betas must be a pair (beta1, beta2), got {betas!r}{where}")
        return {
            "betas": (checks.unit_interval(betas[0], "beta1 (betas[0])", include_one=False, where=where),
                      checks.unit_interval(betas[1], "beta2 (betas[1])", include_one=False, where=where)),
            "amsgrad": checks.boolean(group["amsgrad"], "amsgrad", where),
            "decoupled_weight_decay": checks.boolean(group["decoupled_weight_decay"],
                                                     "decoupled_weight_decay", where),
        }

    _all_state_keys = ("step", "exp_avg", "exp_avg_sq", "max_exp_avg_sq")

    def _initial_state(self, group: ParamGroup) -> dict[str, Any]:
        state = {"step": 0, "exp_avg": 0.0, "exp_avg_sq": 0.0}
        return {**state, "max_exp_avg_sq": 0.0} if group["amsgrad"] else state

    def _step_group(self, group: ParamGroup) -> None:
        lists = gather(group, self.state, self._initial_state(group))
        state, (beta1, beta2) = lists.state, group["betas"]
        max_exp_avg_sqs = state.get("max_exp_avg_sq", [])  # only with amsgrad
        adam(lists.values, lists.grads, state["exp_avg"], state["exp_avg_sq"], max_exp_avg_sqs, state["step"],
             lr=group["lr"], beta1=beta1, beta2=beta2, eps=group["eps"], weight_decay=group["weight_decay"],
             amsgrad=group["amsgrad"], maximize=group["maximize"],
             decoupled_weight_decay=group["decoupled_weight_decay"])
        write_back(lists)


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter); torch.optim.AdamW.

    Each step first shrinks ``p`` by ``1 - lr * weight_decay``, then takes the
    Adam step on the raw gradient.

    >>> from scalargrad import Scalar
    >>> w = Scalar(0.5)
    >>> opt = AdamW([w], lr=1e-3, weight_decay=1e-2)
    >>> (w * w).backward()
    >>> opt.step()
    >>> round(w.data, 6)  # 0.5 * (1 - 1e-3 * 1e-2), then Adam's first step of about lr
    0.498995
    """

    def __init__(self, parameters: Parameters, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 1e-2, amsgrad: bool = False,
                 *, maximize: bool = False) -> None:
        super().__init__(parameters, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                         amsgrad=amsgrad, maximize=maximize, decoupled_weight_decay=True)
