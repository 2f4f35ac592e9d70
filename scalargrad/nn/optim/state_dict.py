"""An optimizer's state as plain JSON-able data, and the checks that read it back.

``{'state': {'0': {...}, '1': {...}}, 'param_groups': [{'lr': ..., 'params': [0, 1]}, ...]}``:
parameters are numbered in order across groups, as in torch; the keys of
``'state'`` are strings so that the dict survives ``json.dumps``/``json.loads``.
The optimizer passes in what only it knows (how to check a group's
hyperparameters, which state entries a group's parameters have), so this
module holds no algorithm.

>>> from scalargrad import Scalar
>>> w = Scalar(1.0)
>>> pack_state_dict([{'lr': 0.1, 'params': [w]}], {w: {'momentum_buffer': 0.5}})
{'state': {'0': {'momentum_buffer': 0.5}}, 'param_groups': [{'lr': 0.1, 'params': [0]}]}
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from ..._util import checks, nested
from ...scalar import Scalar

__all__ = ["check_state_entry", "is_plain_data", "pack_state_dict", "plain_copy", "reorder_state_dict",
           "unpack_state_dict"]

ParamGroup = dict[str, Any]  # {'params': [Scalar, ...], 'lr': ..., other hyperparameters}
State = dict[Scalar, dict[str, Any]]  # per-parameter state: {parameter: {'step': ..., 'exp_avg': ..., ...}}

_TOP_KEYS = {"state", "param_groups"}


def is_plain_data(value: Any) -> bool:
    """True for JSON-able leaf data (None, bool, int, float, str) in nested lists or tuples.

    >>> is_plain_data([1, (2.0, 'a')]), is_plain_data({'x': 1})
    (True, False)
    """
    return all(leaf is None or isinstance(leaf, (bool, int, float, str)) for leaf in nested.leaves(value))


def plain_copy(value: Any) -> Any:
    """A JSON-friendly copy: lists are copied and tuples become lists (json would do the same).

    >>> plain_copy((0.9, 0.999))
    [0.9, 0.999]
    """
    return nested.map_leaves(lambda leaf: leaf, value)


def pack_state_dict(param_groups: list[ParamGroup], state: State) -> dict[str, Any]:
    """The groups and per-parameter state with each parameter replaced by its number."""
    index: dict[int, int] = {}
    groups = []
    for group in param_groups:
        packed = {k: plain_copy(v) for k, v in group.items() if k != "params"}
        packed["params"] = []
        for p in group["params"]:
            index[id(p)] = len(index)
            packed["params"].append(index[id(p)])
        groups.append(packed)
    packed_state = {}
    for p, entry in sorted(state.items(), key=lambda item: index.get(id(item[0]), -1)):
        if id(p) in index:
            packed_state[str(index[id(p)])] = dict(entry)
    return {"state": packed_state, "param_groups": groups}


def unpack_state_dict(state_dict: Any, param_groups: list[ParamGroup], hyperparameters: Iterable[str],
                      check_group: Callable[[ParamGroup, str], dict[str, Any]],
                      check_entry: Callable[[Any, ParamGroup, str], dict[str, Any]]) -> tuple[list, State]:
    """The new ``(param_groups, state)`` a saved ``state_dict`` describes, checked in full.

    ``param_groups`` are the optimizer's current groups (their parameters are
    kept, their hyperparameters replaced); every saved group must name each
    of ``hyperparameters``; ``check_group(group, where)`` returns a group's
    hyperparameters validated, ``check_entry(entry, group, what)`` one
    parameter's state. Raises ValueError (or TypeError) naming the first
    problem; nothing is changed here, so the caller can assign the result.
    """
    if not isinstance(state_dict, dict):
        raise TypeError(f"state_dict must be a dict, got {type(state_dict).__name__}")
    keys = set(state_dict)
    if keys != _TOP_KEYS:
        missing, extra = sorted(_TOP_KEYS - keys), sorted(map(str, keys - _TOP_KEYS))
        raise ValueError(f"state_dict must have exactly the keys 'state' and 'param_groups'; "
                         f"missing {missing}, unexpected {extra}")
    saved_groups, saved_state = state_dict["param_groups"], state_dict["state"]
    if not isinstance(saved_groups, list):
        raise TypeError(f"state_dict['param_groups'] must be a list, got {type(saved_groups).__name__}")
    if not isinstance(saved_state, dict):
        raise TypeError(f"state_dict['state'] must be a dict, got {type(saved_state).__name__}")
    if len(saved_groups) != len(param_groups):
        raise ValueError(f"state_dict has {len(saved_groups)} parameter groups, "
                         f"the optimizer has {len(param_groups)}")

    required = ["params", *hyperparameters]
    new_groups: list[ParamGroup] = []
    param_of: dict[int, tuple[Scalar, ParamGroup]] = {}  # saved index -> (parameter, its new group)
    for gi, (saved, group) in enumerate(zip(saved_groups, param_groups)):
        what = f"param_groups[{gi}]"
        if not isinstance(saved, dict):
            raise TypeError(f"{what} must be a dict, got {type(saved).__name__}")
        missing = [k for k in required if k not in saved]
        if missing:
            raise ValueError(f"{what} is missing {missing[0]!r}")
        indices = saved["params"]
        if not isinstance(indices, list) or not all(type(i) is int for i in indices):
            raise ValueError(f"{what}['params'] must be a list of ints")
        if len(indices) != len(group["params"]):
            raise ValueError(f"{what} has {len(indices)} parameters, "
                             f"the optimizer's group {gi} has {len(group['params'])}")
        for k, v in saved.items():
            if not isinstance(k, str) or not is_plain_data(v):
                raise ValueError(f"{what}[{k!r}] is not plain data (number, str, bool, None or list)")
        new_group = {k: plain_copy(v) for k, v in saved.items() if k != "params"}
        new_group.update(check_group(new_group, f" in {what}"))
        new_group["params"] = group["params"]
        for i, p in zip(indices, group["params"]):
            if i in param_of:
                raise ValueError(f"{what}['params'] repeats parameter index {i}")
            param_of[i] = (p, new_group)
        new_groups.append(new_group)

    new_state: State = {}
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
        new_state[p] = check_entry(entry, group, f"state_dict['state'][{key!r}]")
    return new_groups, new_state


def reorder_state_dict(state_dict: Any, saved_names: list[list[str]], names: list[list[str]]) -> Any:
    """``state_dict`` renumbered so that each parameter's state goes with its name, not its position.

    ``saved_names`` names the parameters of each saved group in the order the
    state dict lists them, ``names`` the parameters of each of the optimizer's
    groups in its own order. Each group must hold the same names in both
    (ValueError naming the difference otherwise). A state dict not laid out
    as ``pack_state_dict`` writes it comes back unchanged, for
    ``unpack_state_dict`` to name its problem.

    >>> saved = {'state': {'0': {'momentum_buffer': 0.5}}, 'param_groups': [{'lr': 0.1, 'params': [0, 1]}]}
    >>> reorder_state_dict(saved, [['w', 'b']], [['b', 'w']])
    {'state': {'1': {'momentum_buffer': 0.5}}, 'param_groups': [{'lr': 0.1, 'params': [0, 1]}]}
    """
    if not _is_packed(state_dict) or len(state_dict["param_groups"]) != len(names):
        return state_dict
    groups, state = state_dict["param_groups"], state_dict["state"]
    _check_same_parameters(groups, saved_names, names)
    entry_of = {str(key): entry for key, entry in state.items()}
    new_state: dict[str, Any] = {}
    new_groups = []
    new_index = 0  # numbered in order across groups, as pack_state_dict does
    for group, saved, wanted in zip(groups, saved_names, names):
        old_index_of = dict(zip(saved, group["params"]))
        params = []
        for name in wanted:
            old = str(old_index_of[name])
            if old in entry_of:
                new_state[str(new_index)] = entry_of[old]
            params.append(new_index)
            new_index += 1
        new_groups.append({**group, "params": params})
    return {"state": new_state, "param_groups": new_groups}


def _is_packed(state_dict: Any) -> bool:
    """Whether ``state_dict`` is laid out as ``pack_state_dict`` writes it: groups numbering their
    parameters with distinct ints, and state keyed by those numbers (as str or int), each once."""
    if not isinstance(state_dict, dict) or not isinstance(state_dict.get("state"), dict):
        return False
    groups = state_dict.get("param_groups")
    if not isinstance(groups, list) or not all(isinstance(g, dict) and isinstance(g.get("params"), list)
                                               for g in groups):
        return False
    indices = [i for g in groups for i in g["params"]]
    if not all(type(i) is int for i in indices) or len(set(indices)) != len(indices):
        return False
    keys = [str(k) for k in state_dict["state"] if isinstance(k, (str, int)) and not isinstance(k, bool)]
    return len(keys) == len(state_dict["state"]) == len(set(keys)) and set(keys) <= set(map(str, indices))


def _check_same_parameters(groups: list[ParamGroup], saved_names: list[list[str]],
                           names: list[list[str]]) -> None:
    """ValueError unless every saved group names each of its parameters and holds the same names as
    the optimizer's group of the same number."""
    if len(saved_names) != len(groups):
        raise ValueError(f"the parameter names cover {len(saved_names)} groups, "
                         f"the state dict has {len(groups)}")
    for gi, (group, saved, wanted) in enumerate(zip(groups, saved_names, names)):
        if len(saved) != len(group["params"]):
            raise ValueError(f"the parameter names of group {gi} are {len(saved)}, "
                             f"the state dict's group {gi} has {len(group['params'])} parameters")
        if set(saved) != set(wanted):
            only_saved = sorted(set(saved) - set(wanted))
            only_here = sorted(set(wanted) - set(saved))
            raise ValueError(f"the saved parameter group {gi} holds other parameters than the optimizer's "
                             f"group {gi}: only in the saved one {only_saved[:5]}, only in the optimizer's "
                             f"{only_here[:5]}; give each group the same parameters as the run that saved it "
                             "(their order may differ)")


def check_state_entry(entry: Any, expected: Iterable[str], allowed: Iterable[str], owner: str,
                      what: str) -> dict[str, Any]:
    """One parameter's saved state, checked: exactly the ``expected`` keys (plus any ``allowed``),
    a whole ``'step'`` count, float values. ``owner`` names the optimizer in messages.

    >>> check_state_entry({'step': 2.0, 'sum': 1}, ['step', 'sum'], [], 'Adagrad', 'state')
    {'step': 2, 'sum': 1.0}
    """
    if not isinstance(entry, dict):
        raise TypeError(f"{what} must be a dict, got {type(entry).__name__}")
    expected = set(expected)
    allowed = expected | set(allowed)
    missing, extra = sorted(expected - set(entry)), sorted(map(str, set(entry) - allowed))
    if missing or extra:
        raise ValueError(f"{what} must have the keys {sorted(expected)} for {owner} "
                         f"with these settings; missing {missing}, unexpected {extra}")
    out: dict[str, Any] = {}
    for k, v in entry.items():
        if k == "step":
            # torch keeps the step count as a float; accept any whole non-negative number.
            step = checks.number(v, f"{what}['step']")
            if not (step >= 0.0 and step.is_integer()):
                raise ValueError(f"{what}['step'] must be a non-negative whole number, got {v!r}")
            out[k] = int(step)
        else:
            if not checks.is_number(v):
                raise TypeError(f"{what}[{k!r}] must be a number, got {type(v).__name__}")
            out[k] = checks.number(v, f"{what}[{k!r}]")
    return out
