"""The ``Optimizer`` base: parameter groups, per-parameter state, ``zero_grad`` and ``step``.

A subclass (see ``sgd.py``) lists its hyperparameters as defaults, checks
them in ``_check_hyper``, gives a parameter's starting state in
``_initial_state``, and in ``_step_group`` does what torch.optim's ``step``
does: ``gather`` one group's values, gradients and state into lists, call
the algorithm (a plain function over those lists), ``write_back`` the results.
"""

from __future__ import annotations

from collections.abc import Iterable
from operator import itemgetter
from typing import Any, Callable, NamedTuple, Union

from ..._util import checks
from ...scalar import Scalar, enable_grad
from .state_dict import ParamGroup, State, check_state_entry, pack_state_dict, unpack_state_dict

# Parameters updated by one call of an algorithm: its whole-list steps hold a few lists of this
# length at once, so large models keep a flat memory peak instead of several copies of every value.
STEP_CHUNK = 256

__all__ = ["GroupLists", "Optimizer", "ParamGroup", "Parameters", "gather", "grad_values", "state_entries",
           "write_back"]

Parameters = Union[Iterable[Scalar], Iterable[ParamGroup]]

_NOT_A_SET = ("parameters must be an ordered collection (list, tuple, generator), not a set: "
              "a set's order changes between runs, which breaks state_dict()")


def grad_values(params: list[Scalar]) -> list[float]:
    """Each parameter's ``.grad`` as a float (after ``backward(create_graph=True)`` it is a Scalar).

    >>> w = Scalar(2.0); w.grad = 0.5
    >>> grad_values([w])
    [0.5]
    """
    grads = [p.grad for p in params]
    if set(map(type, grads)) <= {float}:  # the usual case, checked at C speed
        return grads
    for i, g in enumerate(grads):
        try:
            grads[i] = float(g)
        except (TypeError, ValueError):
            raise TypeError(f"parameter grad must be a number or a Scalar, got {type(g).__name__}") from None
    return grads


def state_entries(state: State, params: list[Scalar],
                  new_entry: Callable[[], dict[str, Any]]) -> list[dict[str, Any]]:
    """The state entry of each parameter in ``state``, made by ``new_entry()`` on its first step.

    >>> w = Scalar(1.0); state = {}
    >>> state_entries(state, [w], lambda: {'step': 0})[0] is state[w]
    True
    """
    entries = list(map(state.get, params))  # one C-speed pass; new entries only on a first step
    if None in entries:
        for i, p in enumerate(params):
            if entries[i] is None:
                entries[i] = state[p] = new_entry()
    return entries


class GroupLists(NamedTuple):
    """A parameter group as the lists an algorithm function works on: what ``gather`` gives.

    ``state`` holds each state entry's values as a list, by key: ``state['exp_avg'][i]`` is
    ``entries[i]['exp_avg']``. The algorithm updates ``values`` and the lists in ``state`` in place;
    ``write_back`` then copies them into the parameters and their entries.
    """

    params: list[Scalar]  # the group's parameters that have a gradient
    values: list[float]  # their .data
    grads: list[float]  # their .grad, as floats
    entries: list[dict[str, Any]]  # their state dicts, as kept in Optimizer.state
    state: dict[str, list[Any]]


def gather(group: ParamGroup, state: State, initial_state: dict[str, Any]) -> GroupLists:
    """``group``'s parameters that have a gradient, with their values, gradients and state, as lists.

    A parameter whose grad is None is left out (as in torch: no gradient, no
    update). Its entry in ``state`` (the optimizer's) is made from
    ``initial_state`` on its first step; ``initial_state`` is empty for an
    algorithm without state (plain SGD), which then keeps none.

    >>> w = Scalar(2.0); w.grad = 0.5
    >>> state = {}
    >>> lists = gather({'params': [w]}, state, {'step': 0, 'sum': 0.0})
    >>> lists.values, lists.grads, lists.state
    ([2.0], [0.5], {'step': [0], 'sum': [0.0]})
    """
    params = group["params"]
    grads = [p.grad for p in params]
    if not set(map(type, grads)) <= {float}:  # checked at C speed: a None, Scalar or int grad is rare
        params = [p for p, grad in zip(params, grads) if grad is not None]
        grads = grad_values(params)  # before any state is made: a grad that is not a number raises
    values = [p.data for p in params]
    if not initial_state:
        return GroupLists(params, values, grads, [], {})
    entries = state_entries(state, params, initial_state.copy)
    try:  # itemgetter runs the lookups at C speed
        state_lists = {key: list(map(itemgetter(key), entries)) for key in initial_state}
    except KeyError:  # a setting switched on after some steps (amsgrad, momentum): its entries start now
        for entry in entries:
            for key, value in initial_state.items():
                entry.setdefault(key, value)
        state_lists = {key: list(map(itemgetter(key), entries)) for key in initial_state}
    return GroupLists(params, values, grads, entries, state_lists)


def write_back(lists: GroupLists) -> None:
    """Put an algorithm's results back: the new values into the parameters, the state lists into the entries.

    >>> w = Scalar(2.0); w.grad = 0.5
    >>> state = {}
    >>> lists = gather({'params': [w]}, state, {'step': 0})
    >>> lists.values[0], lists.state['step'][0] = 1.5, 1  # what an algorithm does, in place
    >>> write_back(lists)
    >>> w.data, state[w]
    (1.5, {'step': 1})
    """
    for p, value in zip(lists.params, lists.values):
        p.data = value
    for key, column in lists.state.items():
        for entry, value in zip(lists.entries, column):
            entry[key] = value


def _learning_rate(value: Any, where: str, allow_zero: bool = False) -> float:
    # A loaded state may hold lr == 0.0, e.g. written by CosineAnnealingLR at T_max.
    lr = checks.nonnegative(value, "lr", where) if allow_zero else checks.positive(value, "lr", where)
    return checks.finite(lr, "lr", where)


class Optimizer:
    """Base class: holds parameter groups and per-parameter state; subclasses define the update.

    ``parameters`` is an iterable of Scalars (a list, a generator such as
    ``model.parameters()``) or a list of dicts, each ``{'params': [...], **overrides}``.
    ``defaults`` gives every hyperparameter's default value. The groups are kept
    in ``self.param_groups`` (list of dicts, each with its ``'params'`` list and
    all hyperparameters) and the per-parameter state in ``self.state`` (a dict
    keyed by the parameter Scalar).

    A subclass implements ``_check_hyper(group, where, loading)`` (validate and
    normalise its hyperparameters), ``_initial_state(group)`` (the state entries
    a parameter of that group has, with their values before its first step),
    ``_all_state_keys`` (every entry any setting can create) and
    ``_step_group(group)``, which ``gather``s the group's lists, calls the
    algorithm and hands the results to ``write_back``.
    """

    def __init__(self, parameters: Parameters, defaults: dict[str, Any]) -> None:
        self.defaults: dict[str, Any] = dict(defaults)
        # Validate the defaults once up front, so a bad default fails even when
        # every group overrides it.
        self.defaults.update(self._checked(self.defaults, ""))
        self.param_groups: list[ParamGroup] = []
        self.state: State = {}

        if isinstance(parameters, (Scalar, dict, str, bytes)) or not isinstance(parameters, Iterable):
            raise TypeError("parameters must be an iterable of Scalars or of parameter-group dicts, "
                            f"got {type(parameters).__name__}")
        if isinstance(parameters, (set, frozenset)):
            raise TypeError(_NOT_A_SET)
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
        params = self._checked_params(param_group["params"], where)
        group = dict(self.defaults)
        group.update({k: v for k, v in param_group.items() if k != "params"})
        group.update(self._checked(group, where))
        group["params"] = params
        self.param_groups.append(group)

    def _checked_params(self, params: Any, where: str) -> list[Scalar]:
        """A group's parameters as a list: leaf Scalars, each in one place only."""
        if isinstance(params, Scalar):
            params = [params]
        elif isinstance(params, (set, frozenset)):
            raise TypeError(_NOT_A_SET)
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
        return params

    def _checked(self, group: ParamGroup, where: str, loading: bool = False) -> dict[str, Any]:
        """The group's hyperparameters validated and normalised (floats, bools, tuples)."""
        out: dict[str, Any] = {}
        if "lr" in group:
            out["lr"] = _learning_rate(group["lr"], where, allow_zero=loading)
        if "initial_lr" in group:  # written by a scheduler
            out["initial_lr"] = checks.nonnegative(group["initial_lr"], "initial_lr", where)
        if "name" in group and not isinstance(group["name"], str):
            raise TypeError("a parameter group's name must be a str, "
                            f"got {type(group['name']).__name__}{where}")
        for name in ("weight_decay", "eps"):  # shared by several algorithms
            if name in group:
                out[name] = checks.nonnegative(group[name], name, where)
        if "maximize" in group:
            out["maximize"] = checks.boolean(group["maximize"], "maximize", where)
        out.update(self._check_hyper(group, where, loading))
        return out

    def _check_hyper(self, group: ParamGroup, where: str, loading: bool) -> dict[str, Any]:
        """Validate and normalise the algorithm's own hyperparameters; the base class accepts any."""
        return {}

    # Every per-parameter state entry some setting creates. A loaded entry may
    # hold these beyond what its group's settings need: a buffer stays in the
    # state, unused, after e.g. momentum is switched off mid-training (as in torch).
    _all_state_keys: tuple[str, ...] = ()

    def _initial_state(self, group: ParamGroup) -> dict[str, Any]:
        """A parameter's state in ``group`` before its first step: every entry it has once stepped, with its
        starting value. The base class keeps no state."""
        return {}

    @property
    def lr(self) -> float:
        """The learning rate of every group (they must agree; set it to change all groups).

        >>> from scalargrad.nn.optim import SGD
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
        lr = _learning_rate(value, "")
        for group in self.param_groups:
            group["lr"] = lr

    # ---- stepping -----------------------------------------------------------

    def zero_grad(self, set_to_none: bool = False) -> None:
        """Set every parameter's ``.grad`` to 0.0, or to None with ``set_to_none=True`` as torch can
        (``step()`` then leaves a parameter whose grad is still None alone); call before each
        ``backward()``."""
        value = None if checks.boolean(set_to_none, "set_to_none") else 0.0
        for group in self.param_groups:
            for p in group["params"]:
                p.grad = value

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
            params = group["params"]
            if len(params) <= STEP_CHUNK:
                self._step_group(group)
                continue
            for start in range(0, len(params), STEP_CHUNK):  # each parameter's update is its own
                self._step_group({**group, "params": params[start:start + STEP_CHUNK]})
        return loss

    def _step_group(self, group: ParamGroup) -> None:
        """One step of ``group``'s parameters: ``gather``, the algorithm's function, ``write_back``."""
        raise NotImplementedError(f"{type(self).__name__} does not implement _step_group()")

    # ---- state dict ---------------------------------------------------------

    def state_dict(self) -> dict[str, Any]:
        """The optimizer's state as plain JSON-able data (see ``state_dict.py`` for the layout)."""
        return pack_state_dict(self.param_groups, self.state)

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore a state from ``state_dict()``; everything is checked before anything changes.

        The saved groups must have as many parameters as this optimizer's
        groups; their hyperparameters replace the current ones (as in torch).
        Raises ValueError (or TypeError) naming the first problem, leaving the
        optimizer unchanged.
        """
        groups, state = unpack_state_dict(
            state_dict, self.param_groups, self.defaults,
            check_group=lambda group, where: self._checked(group, where, loading=True),
            check_entry=self._checked_entry)
        self.param_groups[:] = groups
        self.state = state

    def _checked_entry(self, entry: Any, group: ParamGroup, what: str) -> dict[str, Any]:
        return check_state_entry(entry, self._initial_state(group), self._all_state_keys, type(self).__name__,
                                 what)

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines.extend(f"    {k}: {group[k]}" for k in sorted(group) if k != "params")
        lines.append(")")
        return "\n".join(lines)
