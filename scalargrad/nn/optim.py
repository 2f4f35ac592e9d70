"""Optimizers with PyTorch ``torch.optim`` semantics, step for step, on Scalars.

Every optimizer reads ``p.grad`` of each parameter and updates ``p.data`` in
place with exactly the update rule of its ``torch.optim`` namesake (float64),
so a scalargrad model and the same model in PyTorch follow the same path.

>>> from scalargrad import Scalar
>>> w = Scalar(1.0)
>>> opt = SGD([w], lr=0.1, momentum=0.9)
>>> for _ in range(2):
...     opt.zero_grad()
...     loss = w * w
...     loss.backward()
...     opt.step()
>>> round(w.data, 6)
0.46

Parameters can be a list (or any iterable, e.g. a generator) of Scalars, or a
list of parameter groups: dicts with a ``'params'`` entry and hyperparameters
that override the optimizer's defaults for that group::

    Adam([{'params': model.layers[0].parameters(), 'lr': 1e-2},
          {'params': model.layers[1].parameters()}], lr=1e-3)

``state_dict()`` is plain JSON-able data (floats, ints, lists, dicts with str
keys); per-parameter state is keyed by the parameter's position, as in torch.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable
from typing import Any, Callable, Union

from ..scalar import FloatMath, Scalar, enable_grad

__all__ = ["SGD", "Adadelta", "Adagrad", "Adam", "AdamW", "Optimizer", "RMSprop"]

ParamGroup = dict[str, Any]
Parameters = Union[Iterable[Scalar], Iterable[ParamGroup]]

_div = FloatMath.div    # IEEE division: x / 0 gives inf or nan, as torch does, instead of raising
_sqrt = FloatMath.sqrt  # sqrt of a (rounding-)negative number gives nan, as torch does


def _lerp(start: float, end: float, weight: float) -> float:
    """torch.lerp, including its choice of formula by weight (keeps results bit-identical)."""
    if abs(weight) < 0.5:
        return start + weight * (end - start)
    return end - (end - start) * (1.0 - weight)


def _maximum(a: float, b: float) -> float:
    """torch.maximum: nan if either input is nan (Python's max would drop it)."""
    if math.isnan(a) or math.isnan(b):
        return math.nan
    return a if a >= b else b


def _grad_of(p: Scalar) -> float:
    g = p.grad
    if type(g) is float:
        return g
    # After backward(create_graph=True) the grad is a Scalar; float() reads its value.
    try:
        return float(g)
    except (TypeError, ValueError):
        raise TypeError(f"parameter grad must be a number or a Scalar, got {type(g).__name__}") from None


# --------------------------------------------------------------------------
# Hyperparameter checks: each returns the value as a plain float (or bool).
# ``where`` names the parameter group when there are several.
# --------------------------------------------------------------------------

def _real(value: Any, name: str, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be an int or float, got {type(value).__name__}{where}")
    return float(value)


def _check_lr(value: Any, where: str, allow_zero: bool = False) -> float:
    lr = _real(value, "lr", where)
    if allow_zero:
        # A loaded state may hold lr == 0.0, e.g. written by CosineAnnealingLR at T_max.
        if not lr >= 0.0:
            raise ValueError(f"lr must be non-negative, got {value!r}{where}")
    elif not lr > 0.0:
        raise ValueError(f"lr must be positive, got {value!r}{where}")
    if math.isinf(lr):
        raise ValueError(f"lr must be finite, got {value!r}{where}")
    return lr


def _check_nonneg(value: Any, name: str, where: str) -> float:
    x = _real(value, name, where)
    if not x >= 0.0:
        raise ValueError(f"{name} must be non-negative, got {value!r}{where}")
    return x


def _check_range(value: Any, name: str, where: str, high_inclusive: bool) -> float:
    x = _real(value, name, where)
    ok = 0.0 <= x <= 1.0 if high_inclusive else 0.0 <= x < 1.0
    if not ok:
        interval = "[0, 1]" if high_inclusive else "[0, 1)"
        raise ValueError(f"{name} must be in {interval}, got {value!r}{where}")
    return x


def _check_bool(value: Any, name: str, where: str) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"{name} must be a bool, got {type(value).__name__}{where}")
    return value


def _is_plain(value: Any) -> bool:
    """JSON-able leaf data: what may sit in a parameter group besides the hyperparameters."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return True
    if isinstance(value, (list, tuple)):
        return all(_is_plain(v) for v in value)
    return False


def _plain(value: Any) -> Any:
    """A JSON-friendly copy: tuples become lists (json would do the same)."""
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


class Optimizer:
    """Base class: holds parameter groups and per-parameter state; subclasses define the update.

    ``parameters`` is an iterable of Scalars (a list, a generator such as
    ``model.parameters()``) or a list of dicts, each ``{'params': [...], **overrides}``.
    ``defaults`` gives every hyperparameter's default value. The groups are kept
    in ``self.param_groups`` (list of dicts, each with its ``'params'`` list and
    all hyperparameters) and the per-parameter state in ``self.state`` (a dict
    keyed by the parameter Scalar).

    A subclass implements ``_check_hyper(group, where, loading)`` (validate and
    normalise its hyperparameters), ``_state_keys(group)`` (the state entries a
    stepped parameter of that group has), ``_all_state_keys`` (every entry any
    setting can create) and ``_step_group(group)``.
    """

    def __init__(self, parameters: Parameters, defaults: dict[str, Any]) -> None:
        self.defaults: dict[str, Any] = dict(defaults)
        # Validate the defaults once up front, so a bad default fails even when
        # every group overrides it.
        self.defaults.update(self._checked(self.defaults, ""))
        self.param_groups: list[ParamGroup] = []
        self.state: dict[Scalar, dict[str, Any]] = {}

        if isinstance(parameters, (Scalar, dict, str, bytes)) or not isinstance(parameters, Iterable):
            raise TypeError(
                "parameters must be an iterable of Scalars or of parameter-group dicts, "
                f"got {type(parameters).__name__}"
            )
        if isinstance(parameters, (set, frozenset)):
            raise TypeError("parameters must be an ordered collection (list, tuple, generator), not a set: "
                            "a set's order changes between runs, which breaks state_dict()")
        items = list(parameters)
        if not items:
            raise ValueError("optimizer got an empty parameter list")
        if all(isinstance(item, dict) for item in items):
            groups = items
        elif any(isinstance(item, dict) for item in items):
            raise TypeError("parameters must be all Scalars or all parameter-group dicts, not a mix")
        else:
            groups = [{"params": items}]
        for group in groups:
            self.add_param_group(group)

    # ---- groups -------------------------------------------------------------

    def add_param_group(self, param_group: ParamGroup) -> None:
        """Add a group of parameters (``{'params': [...], 'lr': ...}``) with its own hyperparameters.

        Missing hyperparameters take the optimizer's defaults. Useful when
        unfreezing part of a model during training.
        """
        if not isinstance(param_group, dict):
            raise TypeError(f"a parameter group must be a dict, got {type(param_group).__name__}")
        index = len(self.param_groups)
        where = f" (parameter group {index})" if index or len(param_group) > 1 else ""
        if "params" not in param_group:
            raise ValueError(f"parameter group {index} has no 'params' entry")
        unknown = sorted(k for k in param_group if k != "params" and k not in self.defaults
                         and k not in ("initial_lr", "name"))
        if unknown:
            raise ValueError(f"unknown hyperparameter {unknown[0]!r}{where}; "
                             f"valid ones are {sorted(self.defaults)}")

        params = param_group["params"]
        if isinstance(params, Scalar):
            params = [params]
        elif isinstance(params, (set, frozenset)):
            raise TypeError("parameters must be an ordered collection (list, tuple, generator), not a set: "
                            "a set's order changes between runs, which breaks state_dict()")
        elif isinstance(params, (dict, str, bytes)) or not isinstance(params, Iterable):
            raise TypeError(f"'params' must be an iterable of Scalars, got {type(params).__name__}{where}")
        params = list(params)

        seen = {id(p) for g in self.param_groups for p in g["params"]}
        in_group = set()
        for i, p in enumerate(params):
            if not isinstance(p, Scalar):
                raise TypeError(f"optimizer can only optimize Scalars, but parameter {i}{where} "
                                f"is a {type(p).__name__}")
            if not p.is_leaf:
                raise ValueError(f"parameter {i}{where} is not a leaf Scalar (it was computed from "
                                 "others, so a new value would be overwritten); optimize its inputs")
            if id(p) in in_group:
                raise ValueError(f"parameter {i}{where} appears twice in the parameter list")
            if id(p) in seen:
                raise ValueError(f"parameter {i}{where} already appears in another parameter group")
            in_group.add(id(p))

        group = dict(self.defaults)
        group.update({k: v for k, v in param_group.items() if k != "params"})
        group.update(self._checked(group, where))
        group["params"] = params
        self.param_groups.append(group)

    def _checked(self, group: ParamGroup, where: str, loading: bool = False) -> dict[str, Any]:
        """The group's hyperparameters validated and normalised (floats, bools, tuples)."""
        out: dict[str, Any] = {}
        if "lr" in group:
            out["lr"] = _check_lr(group["lr"], where, allow_zero=loading)
        if "initial_lr" in group:  # written by a scheduler
            out["initial_lr"] = _check_nonneg(group["initial_lr"], "initial_lr", where)
        if "name" in group and not isinstance(group["name"], str):
            raise TypeError(f"a parameter group's name must be a str, got {type(group['name']).__name__}{where}")
        out.update(self._check_hyper(group, where, loading))
        return out

    def _check_hyper(self, group: ParamGroup, where: str, loading: bool) -> dict[str, Any]:
        """Validate and normalise the hyperparameters other than lr; the base class accepts any."""
        return {}

    # Every per-parameter state entry some setting creates. A loaded entry may
    # hold these beyond what its group's settings need: a buffer stays in the
    # state, unused, after e.g. momentum is switched off mid-training (as in torch).
    _all_state_keys: tuple[str, ...] = ()

    def _state_keys(self, group: ParamGroup) -> tuple[str, ...]:
        """The per-parameter state entries a parameter of ``group`` has once stepped."""
        return ()

    @property
    def lr(self) -> float:
        """The learning rate of every group (they must agree; set it to change all groups).

        >>> from scalargrad import Scalar
        >>> opt = SGD([Scalar(1.0)], lr=0.1)
        >>> opt.lr = 0.05
        >>> opt.param_groups[0]['lr']
        0.05
        """
        lrs = [group["lr"] for group in self.param_groups]
        if any(lr != lrs[0] for lr in lrs[1:]):
            raise ValueError(f"the parameter groups have different lrs {lrs}; "
                             "read optimizer.param_groups[i]['lr'] instead")
        return lrs[0]

    @lr.setter
    def lr(self, value: float) -> None:
        lr = _check_lr(value, "")
        for group in self.param_groups:
            group["lr"] = lr

    # ---- stepping -----------------------------------------------------------

    def zero_grad(self) -> None:
        """Set every parameter's ``.grad`` to 0.0 (call before each ``backward()``)."""
        for group in self.param_groups:
            for p in group["params"]:
                p.grad = 0.0

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Update every parameter from its ``.grad``; returns ``closure()`` if one is given.

        The closure, as in torch, re-evaluates the model and returns the loss;
        it runs with gradient recording on.
        """
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        for group in self.param_groups:
            self._step_group(group)
        return loss

    def _step_group(self, group: ParamGroup) -> None:
        raise NotImplementedError(f"{type(self).__name__} does not implement _step_group()")

    def _gradients(self, group: ParamGroup, new_state: Callable[[], dict[str, Any]] | None = None):
        """``(parameter, gradient, state)`` for each parameter of ``group``.

        The gradient is negated under ``maximize``; with ``new_state`` a
        parameter seen for the first time gets its state from it.
        """
        maximize, state = group["maximize"], self.state
        for p in group["params"]:
            g = _grad_of(p)
            if maximize:
                g = -g
            entry = None
            if new_state is not None:
                entry = state.get(p)
                if entry is None:
                    entry = state[p] = new_state()
            yield p, g, entry

    # ---- state dict ---------------------------------------------------------

    def state_dict(self) -> dict[str, Any]:
        """The optimizer's state as plain JSON-able data.

        ``{'state': {'0': {...}, '1': {...}}, 'param_groups': [{'lr': ..., 'params': [0, 1]}, ...]}``:
        parameters are numbered in order across groups, as in torch (keys are
        strings so that the dict survives ``json.dumps``/``json.loads`` unchanged).
        """
        index: dict[int, int] = {}
        groups = []
        for group in self.param_groups:
            packed = {k: _plain(v) for k, v in group.items() if k != "params"}
            packed["params"] = []
            for p in group["params"]:
                index[id(p)] = len(index)
                packed["params"].append(index[id(p)])
            groups.append(packed)
        state = {}
        for p, entry in sorted(self.state.items(), key=lambda item: index.get(id(item[0]), -1)):
            if id(p) in index:
                state[str(index[id(p)])] = dict(entry)
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore a state from ``state_dict()``; everything is checked before anything changes.

        The saved groups must have as many parameters as this optimizer's
        groups; their hyperparameters replace the current ones (as in torch).
        Raises ValueError (or TypeError) naming the first problem, leaving the
        optimizer unchanged.
        """
        if not isinstance(state_dict, dict):
            raise TypeError(f"state_dict must be a dict, got {type(state_dict).__name__}")
        keys = set(state_dict)
        if keys != {"state", "param_groups"}:
            missing = sorted({"state", "param_groups"} - keys)
            extra = sorted(map(str, keys - {"state", "param_groups"}))
            raise ValueError(f"state_dict must have exactly the keys 'state' and 'param_groups'; "
                             f"missing {missing}, unexpected {extra}")
        saved_groups, saved_state = state_dict["param_groups"], state_dict["state"]
        if not isinstance(saved_groups, list):
            raise TypeError(f"state_dict['param_groups'] must be a list, got {type(saved_groups).__name__}")
        if not isinstance(saved_state, dict):
            raise TypeError(f"state_dict['state'] must be a dict, got {type(saved_state).__name__}")
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(f"state_dict has {len(saved_groups)} parameter groups, "
                             f"the optimizer has {len(self.param_groups)}")

        new_groups: list[ParamGroup] = []
        param_of: dict[int, tuple[Scalar, ParamGroup]] = {}  # saved index -> (parameter, its new group)
        for gi, (saved, group) in enumerate(zip(saved_groups, self.param_groups)):
            what = f"param_groups[{gi}]"
            if not isinstance(saved, dict):
                raise TypeError(f"{what} must be a dict, got {type(saved).__name__}")
            missing = [k for k in ["params", *self.defaults] if k not in saved]
            if missing:
                raise ValueError(f"{what} is missing {missing[0]!r}")
            indices = saved["params"]
            if not isinstance(indices, list) or not all(type(i) is int for i in indices):
                raise ValueError(f"{what}['params'] must be a list of ints")
            if len(indices) != len(group["params"]):
                raise ValueError(f"{what} has {len(indices)} parameters, "
                                 f"the optimizer's group {gi} has {len(group['params'])}")
            for k, v in saved.items():
                if not isinstance(k, str) or not _is_plain(v):
                    raise ValueError(f"{what}[{k!r}] is not plain data (number, str, bool, None or list)")
            new_group = {k: _plain(v) for k, v in saved.items() if k != "params"}  # copies lists
            new_group.update(self._checked(new_group, f" in {what}", loading=True))
            new_group["params"] = group["params"]
            for i, p in zip(indices, group["params"]):
                if i in param_of:
                    raise ValueError(f"{what}['params'] repeats parameter index {i}")
                param_of[i] = (p, new_group)
            new_groups.append(new_group)

        new_state: dict[Scalar, dict[str, Any]] = {}
        for key, entry in saved_state.items():
            try:
                i = int(key) if isinstance(key, (str, int)) and not isinstance(key, bool) else None
            except ValueError:
                i = None
            if i is None or i not in param_of:
                raise ValueError(f"state_dict['state'] has key {key!r}, which is not the index "
                                 "of a parameter in param_groups")
            p, group = param_of[i]
            if p in new_state:
                raise ValueError(f"state_dict['state'] has parameter {i} twice")
            new_state[p] = self._checked_entry(entry, group, f"state_dict['state'][{key!r}]")

        self.param_groups[:] = new_groups
        self.state = new_state

    def _checked_entry(self, entry: Any, group: ParamGroup, what: str) -> dict[str, Any]:
        if not isinstance(entry, dict):
            raise TypeError(f"{what} must be a dict, got {type(entry).__name__}")
        expected = set(self._state_keys(group))
        allowed = expected | set(self._all_state_keys)
        missing, extra = sorted(expected - set(entry)), sorted(map(str, set(entry) - allowed))
        if missing or extra:
            raise ValueError(f"{what} must have the keys {sorted(expected)} for {type(self).__name__} "
                             f"with these settings; missing {missing}, unexpected {extra}")
        out: dict[str, Any] = {}
        for k, v in entry.items():
            if k == "step":
                # torch keeps the step count as a float; accept any whole non-negative number.
                if isinstance(v, bool) or not isinstance(v, numbers.Real) or not (v >= 0 and v == int(v)):
                    raise ValueError(f"{what}['step'] must be a non-negative whole number, got {v!r}")
                out[k] = int(v)
            else:
                if isinstance(v, bool) or not isinstance(v, numbers.Real):
                    raise TypeError(f"{what}[{k!r}] must be a number, got {type(v).__name__}")
                out[k] = float(v)
        return out

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines.extend(f"    {k}: {group[k]}" for k in sorted(group) if k != "params")
        lines.append(")")
        return "\n".join(lines)


def _check_common(group: ParamGroup, where: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if "weight_decay" in group:
        out["weight_decay"] = _check_nonneg(group["weight_decay"], "weight_decay", where)
    if "eps" in group:
        out["eps"] = _check_nonneg(group["eps"], "eps", where)
    if "maximize" in group:
        out["maximize"] = _check_bool(group["maximize"], "maximize", where)
    return out


class SGD(Optimizer):
    """Stochastic gradient descent, optionally with momentum, Nesterov momentum and weight decay.

    As torch.optim.SGD: ``g = grad + weight_decay * p``; with momentum
    ``buf = g`` on the first step, then ``buf = momentum * buf + (1 - dampening) * g``;
    the step uses ``g + momentum * buf`` (Nesterov) or ``buf``; ``p -= lr * step``.
    ``momentum=None`` (the original API) or 0 means plain SGD.

    >>> from scalargrad import Scalar
    >>> ps = [Scalar(1.0), Scalar(2.0)]
    >>> opt = SGD(parameters=ps, lr=0.1, momentum=None)
    """

    def __init__(self, parameters: Parameters, lr: float, momentum: float | None = None,
                 nesterov: bool = False, weight_decay: float = 0.0, dampening: float = 0.0,
                 *, maximize: bool = False) -> None:
        defaults = {"lr": lr, "momentum": momentum, "dampening": dampening, "weight_decay": weight_decay,
                    "nesterov": nesterov, "maximize": maximize}
        super().__init__(parameters, defaults)

    def _check_hyper(self, group: ParamGroup, where: str, loading: bool) -> dict[str, Any]:
        out = _check_common(group, where)
        momentum = group.get("momentum")
        out["momentum"] = 0.0 if momentum is None else _check_nonneg(momentum, "momentum", where)
        out["dampening"] = _real(group.get("dampening", 0.0), "dampening", where)
        out["nesterov"] = _check_bool(group.get("nesterov", False), "nesterov", where)
        if out["nesterov"] and (out["momentum"] <= 0.0 or out["dampening"] != 0.0):
            raise ValueError(f"nesterov momentum requires a positive momentum and zero dampening{where}")
        return out

    _all_state_keys = ("momentum_buffer",)

    def _state_keys(self, group: ParamGroup) -> tuple[str, ...]:
        return ("momentum_buffer",) if group["momentum"] != 0.0 else ()

    def _step_group(self, group: ParamGroup) -> None:
        lr, momentum, dampening = group["lr"], group["momentum"], group["dampening"]
        weight_decay, nesterov = group["weight_decay"], group["nesterov"]
        state = self.state
        for p, g, _ in self._gradients(group):
            if weight_decay != 0.0:
                g = g + weight_decay * p.data
            if momentum != 0.0:
                entry = state.get(p)
                buf = None if entry is None else entry.get("momentum_buffer")
                if buf is None:
                    buf = g  # torch starts the buffer at the first gradient, without dampening
                else:
                    buf = buf * momentum + (1.0 - dampening) * g
                state[p] = {"momentum_buffer": buf}
                g = g + momentum * buf if nesterov else buf
            p.data = p.data + -lr * g


class Adam(Optimizer):
    """Adam (Kingma & Ba), optionally AMSGrad; torch.optim.Adam's update.

    ``m = lerp(m, g, 1 - beta1)``, ``v = beta2 * v + (1 - beta2) * g^2``,
    ``p -= lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)``;
    with ``amsgrad`` the running maximum of ``v`` is used. ``weight_decay``
    adds ``weight_decay * p`` to the gradient (L2), or, with
    ``decoupled_weight_decay=True`` (that is AdamW), shrinks ``p`` by
    ``1 - lr * weight_decay`` before the step.

    >>> from scalargrad import Scalar
    >>> opt = Adam([Scalar(0.5)], lr=1e-3, betas=(0.9, 0.999))
    """

    def __init__(self, parameters: Parameters, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0.0, amsgrad: bool = False,
                 *, maximize: bool = False, decoupled_weight_decay: bool = False) -> None:
        defaults = {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay, "amsgrad": amsgrad,
                    "maximize": maximize, "decoupled_weight_decay": decoupled_weight_decay}
        super().__init__(parameters, defaults)

    def _check_hyper(self, group: ParamGroup, where: str, loading: bool) -> dict[str, Any]:
        out = _check_common(group, where)
        betas = group["betas"]
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise ValueError(f"betas must be a pair (beta1, beta2), got {betas!r}{where}")
        out["betas"] = (_check_range(betas[0], "beta1 (betas[0])", where, high_inclusive=False),
                        _check_range(betas[1], "beta2 (betas[1])", where, high_inclusive=False))
        out["amsgrad"] = _check_bool(group["amsgrad"], "amsgrad", where)
        out["decoupled_weight_decay"] = _check_bool(group["decoupled_weight_decay"],
                                                    "decoupled_weight_decay", where)
        return out

    _all_state_keys = ("step", "exp_avg", "exp_avg_sq", "max_exp_avg_sq")

    def _state_keys(self, group: ParamGroup) -> tuple[str, ...]:
        keys = ("step", "exp_avg", "exp_avg_sq")
        return (*keys, "max_exp_avg_sq") if group["amsgrad"] else keys

    def _step_group(self, group: ParamGroup) -> None:
        lr, eps, weight_decay, amsgrad = group["lr"], group["eps"], group["weight_decay"], group["amsgrad"]
        beta1, beta2 = group["betas"]
        decoupled = group["decoupled_weight_decay"]

        def new_state():
            entry = {"step": 0, "exp_avg": 0.0, "exp_avg_sq": 0.0}
            if amsgrad:
                entry["max_exp_avg_sq"] = 0.0
            return entry

        for p, g, entry in self._gradients(group, new_state):
            step = entry["step"] + 1
            entry["step"] = step
            if weight_decay != 0.0:
                if decoupled:
                    p.data = p.data * (1.0 - lr * weight_decay)
                else:
                    g = g + weight_decay * p.data
            m = entry["exp_avg"] = _lerp(entry["exp_avg"], g, 1.0 - beta1)
            v = entry["exp_avg_sq"] = entry["exp_avg_sq"] * beta2 + (1.0 - beta2) * g * g
            bias_correction1 = 1.0 - beta1 ** step
            bias_correction2_sqrt = (1.0 - beta2 ** step) ** 0.5
            step_size = lr / bias_correction1
            if amsgrad:
                v = entry["max_exp_avg_sq"] = _maximum(entry.get("max_exp_avg_sq", 0.0), v)
            denom = _sqrt(v) / bias_correction2_sqrt + eps
            p.data = p.data + _div(-step_size * m, denom)


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter); torch.optim.AdamW.

    Each step first shrinks ``p`` by ``1 - lr * weight_decay``, then takes the
    Adam step on the raw gradient.

    >>> from scalargrad import Scalar
    >>> opt = AdamW([Scalar(0.5)], lr=1e-3, weight_decay=1e-2)
    """

    def __init__(self, parameters: Parameters, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 1e-2, amsgrad: bool = False,
                 *, maximize: bool = False) -> None:
        super().__init__(parameters, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                         amsgrad=amsgrad, maximize=maximize, decoupled_weight_decay=True)


class RMSprop(Optimizer):
    """RMSprop (Hinton), optionally centered and with momentum; torch.optim.RMSprop.

    ``v = alpha * v + (1 - alpha) * g^2``; centered also tracks ``gm = lerp(gm, g, 1 - alpha)``
    and uses ``v - gm^2``; ``avg = sqrt(...) + eps``; with momentum
    ``buf = momentum * buf + g / avg`` and ``p -= lr * buf``, else ``p -= lr * g / avg``.

    >>> from scalargrad import Scalar
    >>> opt = RMSprop([Scalar(0.5)], lr=1e-2, momentum=0.9, centered=True)
    """

    def __init__(self, parameters: Parameters, lr: float = 1e-2, alpha: float = 0.99, eps: float = 1e-8,
                 weight_decay: float = 0, momentum: float = 0, centered: bool = False,
                 *, maximize: bool = False) -> None:
        defaults = {"lr": lr, "alpha": alpha, "eps": eps, "weight_decay": weight_decay, "momentum": momentum,
                    "centered": centered, "maximize": maximize}
        super().__init__(parameters, defaults)

    def _check_hyper(self, group: ParamGroup, where: str, loading: bool) -> dict[str, Any]:
        out = _check_common(group, where)
        out["alpha"] = _check_range(group["alpha"], "alpha", where, high_inclusive=True)
        out["momentum"] = _check_nonneg(group["momentum"], "momentum", where)
        out["centered"] = _check_bool(group["centered"], "centered", where)
        return out

    _all_state_keys = ("step", "square_avg", "momentum_buffer", "grad_avg")

    def _state_keys(self, group: ParamGroup) -> tuple[str, ...]:
        keys: tuple[str, ...] = ("step", "square_avg")
        if group["momentum"] > 0.0:
            keys += ("momentum_buffer",)
        if group["centered"]:
            keys += ("grad_avg",)
        return keys

    def _step_group(self, group: ParamGroup) -> None:
        lr, alpha, eps = group["lr"], group["alpha"], group["eps"]
        weight_decay, momentum, centered = group["weight_decay"], group["momentum"], group["centered"]

        def new_state():
            entry = {"step": 0, "square_avg": 0.0}
            if momentum > 0.0:
                entry["momentum_buffer"] = 0.0
            if centered:
                entry["grad_avg"] = 0.0
            return entry

        for p, g, entry in self._gradients(group, new_state):
            entry["step"] += 1
            if weight_decay != 0.0:
                g = g + weight_decay * p.data
            square_avg = entry["square_avg"] = entry["square_avg"] * alpha + (1.0 - alpha) * g * g
            if centered:
                grad_avg = entry["grad_avg"] = _lerp(entry.get("grad_avg", 0.0), g, 1.0 - alpha)
                avg = _sqrt(square_avg - grad_avg * grad_avg) + eps
            else:
                avg = _sqrt(square_avg) + eps
            if momentum > 0.0:
                buf = entry["momentum_buffer"] = entry.get("momentum_buffer", 0.0) * momentum + _div(g, avg)
                p.data = p.data + -lr * buf
            else:
                p.data = p.data + _div(-lr * g, avg)


class Adagrad(Optimizer):
    """Adagrad (Duchi et al.); torch.optim.Adagrad.

    ``sum += g^2``, ``p -= lr / (1 + (t - 1) * lr_decay) * g / (sqrt(sum) + eps)``,
    with ``sum`` starting at ``initial_accumulator_value``.

    >>> from scalargrad import Scalar
    >>> opt = Adagrad([Scalar(0.5)], lr=1e-2, lr_decay=1e-3)
    """

    def __init__(self, parameters: Parameters, lr: float = 1e-2, lr_decay: float = 0,
                 weight_decay: float = 0, initial_accumulator_value: float = 0, eps: float = 1e-10,
                 *, maximize: bool = False) -> None:
        defaults = {"lr": lr, "lr_decay": lr_decay, "weight_decay": weight_decay,
                    "initial_accumulator_value": initial_accumulator_value, "eps": eps, "maximize": maximize}
        super().__init__(parameters, defaults)

    def _check_hyper(self, group: ParamGroup, where: str, loading: bool) -> dict[str, Any]:
        out = _check_common(group, where)
        out["lr_decay"] = _check_nonneg(group["lr_decay"], "lr_decay", where)
        out["initial_accumulator_value"] = _check_nonneg(group["initial_accumulator_value"],
                                                         "initial_accumulator_value", where)
        return out

    _all_state_keys = ("step", "sum")

    def _state_keys(self, group: ParamGroup) -> tuple[str, ...]:
        return ("step", "sum")

    def _step_group(self, group: ParamGroup) -> None:
        lr, lr_decay, eps = group["lr"], group["lr_decay"], group["eps"]
        weight_decay, initial = group["weight_decay"], group["initial_accumulator_value"]
        for p, g, entry in self._gradients(group, lambda: {"step": 0, "sum": initial}):
            step = entry["step"] = entry["step"] + 1
            if weight_decay != 0.0:
                g = g + weight_decay * p.data
            clr = lr / (1.0 + (step - 1) * lr_decay)
            total = entry["sum"] = entry["sum"] + g * g
            p.data = p.data + _div(-clr * g, _sqrt(total) + eps)


class Adadelta(Optimizer):
    """Adadelta (Zeiler); torch.optim.Adadelta.

    ``v = rho * v + (1 - rho) * g^2``, ``delta = sqrt(u + eps) / sqrt(v + eps) * g``,
    ``u = rho * u + (1 - rho) * delta^2``, ``p -= lr * delta``.

    >>> from scalargrad import Scalar
    >>> opt = Adadelta([Scalar(0.5)], lr=1.0, rho=0.9)
    """

    def __init__(self, parameters: Parameters, lr: float = 1.0, rho: float = 0.9, eps: float = 1e-6,
                 weight_decay: float = 0, *, maximize: bool = False) -> None:
        defaults = {"lr": lr, "rho": rho, "eps": eps, "weight_decay": weight_decay, "maximize": maximize}
        super().__init__(parameters, defaults)

    def _check_hyper(self, group: ParamGroup, where: str, loading: bool) -> dict[str, Any]:
        out = _check_common(group, where)
        out["rho"] = _check_range(group["rho"], "rho", where, high_inclusive=True)
        return out

    _all_state_keys = ("step", "square_avg", "acc_delta")

    def _state_keys(self, group: ParamGroup) -> tuple[str, ...]:
        return ("step", "square_avg", "acc_delta")

    def _step_group(self, group: ParamGroup) -> None:
        lr, rho, eps = group["lr"], group["rho"], group["eps"]
        weight_decay = group["weight_decay"]
        for p, g, entry in self._gradients(group, lambda: {"step": 0, "square_avg": 0.0, "acc_delta": 0.0}):
            entry["step"] += 1
            if weight_decay != 0.0:
                g = g + weight_decay * p.data
            square_avg = entry["square_avg"] = entry["square_avg"] * rho + (1.0 - rho) * g * g
            std = _sqrt(square_avg + eps)
            delta = _div(_sqrt(entry["acc_delta"] + eps), std) * g
            entry["acc_delta"] = entry["acc_delta"] * rho + (1.0 - rho) * delta * delta
            p.data = p.data + -lr * delta
