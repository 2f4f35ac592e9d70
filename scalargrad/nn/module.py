"""``Module``: the base of every layer, found-by-walking parameters and state dicts.

As in ``torch.nn.Module``, a module's parameters are the Scalars it holds in
its attributes (directly, or in lists and nested lists) plus those of its
child modules, found by walking the attributes in the order they were set.
So a Neuron gives its weights then its bias, a Linear goes neuron by neuron
and a Sequential module by module.

Calling a module decides between one sample and a batch (``Module.__call__``,
for every layer that states its ``sample_depth``): a layer given one more
level of nesting than a sample runs on each sample and returns the list of
outputs, as torch's layers take a batch.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from .._util.checks import boolean
from .._util.nested import (
    is_nested,
    is_regular,
    leaves,
    map_leaves,
    named_leaves,
    ragged_description,
    shape,
    to_lists,
)
from ..scalar import Scalar
from . import serialization
from .summary import ModelSummary, in_interactive_session, layer_table

__all__ = ["Module"]


def _is_params(value) -> bool:
    """A Scalar, or a non-empty (nested) list whose leaves are Scalars."""
    while isinstance(value, (list, tuple)):
        if not value:
            return False
        value = value[0]
    return isinstance(value, Scalar)


def _holds_modules(value) -> bool:
    return isinstance(value, (list, tuple)) and any(isinstance(v, Module) for v in value)


def _value_of(parameter: Scalar) -> float:
    return parameter.data


def _check_values(value, where: str, problems: list) -> None:
    """Collect a problem for any leaf of ``value`` that is not a real number."""
    for v in leaves(value):
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            problems.append(f"{where}: expected numbers, found {type(v).__name__}")
        elif isinstance(v, int):
            try:
                float(v)
            except OverflowError:  # past 2**1024; checked here, not halfway through copying the values in
                problems.append(f"{where}: an int too large for a float ({v.bit_length()} bits)")


class Module:
    """Base class for layers and models.

    Subclasses set their parameters (Scalars, or lists of Scalars) and child
    modules as attributes and implement ``forward``; calling the module
    calls ``forward``. A layer whose input has a fixed nesting depth states
    it in ``sample_depth`` (1 for a list of numbers, 3 for an image), and
    then takes a batch too, as torch's layers do: see ``__call__``.

    >>> from scalargrad import Scalar
    >>> class Scale(Module):
    ...     def __init__(self):
    ...         super().__init__()
    ...         self.k = Scalar(2.0)
    ...     def forward(self, x):
    ...         return self.k * x
    >>> m = Scale()
    >>> m(3.0).data, m.num_parameters()
    (6.0, 1)
    """

    training = True  # so a subclass that forgets super().__init__() still works

    sample_depth: int | None = None
    """How many levels of lists one sample's input has (a Linear's 1, a Conv2D's 3), or None for a module
    whose ``forward`` takes its input as given (a model, Sequential, an elementwise activation)."""

    def __init__(self) -> None:
        self.training = True

    def forward(self, *args, **kwargs) -> Any:
        """Compute the module's output; subclasses implement it."""
        raise NotImplementedError(f"{type(self).__name__} does not implement forward()")

    def __call__(self, *args, **kwargs):
        """``forward`` on one sample, or on each sample of a batch: the list of the outputs.

        For a module with a ``sample_depth``, the nesting depth of the input
        (counted along first elements) decides: up to ``sample_depth`` it is
        one sample, given to ``forward`` as is; one level more, a batch (a
        list of samples, all of one shape), each given to ``forward`` in
        turn with the same keyword arguments, so every output has the bits
        it has on its own. Deeper, or samples of different shapes, is a
        ValueError that says what the module expects (``expected_input``).
        numpy arrays are read as nested lists.

        >>> from scalargrad.nn import Linear
        >>> layer = Linear(3, 2)
        >>> len(layer([1.0, 2.0, 3.0])), len(layer([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]))
        (2, 2)
        """
        depth = self.sample_depth
        if depth is None or len(args) != 1:
            return self.forward(*args, **kwargs)
        x = args[0]
        if depth == 1 and type(x) is list and x and type(x[0]) in _NUMBERS:  # one sample, the usual call
            return self.forward(x, **kwargs)
        nesting, first = _nesting(x, depth + 2)
        if not isinstance(first, _PLAIN) and hasattr(first, "tolist"):  # numpy arrays in it (or it is one)
            x = to_lists(x)
            nesting, first = _nesting(x, depth + 2)
        if nesting <= depth:  # one sample: checked by forward itself
            return self.forward(x, **kwargs)
        if nesting > depth + 1 or _uneven(x, depth):
            raise ValueError(f"{self.expected_input()}; got {_describe_input(x)}")
        forward, outputs = self.forward, []
        try:
            for sample in x:
                outputs.append(forward(sample, **kwargs))
        except (TypeError, ValueError) as error:
            got = _describe_input(x)
            kind = ValueError if got.startswith("a ragged") else type(error)  # a shape problem first
            raise kind(f"{self.expected_input()}; got {got} (sample {len(outputs)}: {error})") from error
        return outputs

    def expected_input(self) -> str:
        """What this module takes, for the errors of ``__call__``: "Linear(3, 2) expects 3 numbers or a
        batch of lists of 3"."""
        return (f"{type(self).__name__} expects one sample nested {self.sample_depth} deep "
                f"or a batch of them (a list of samples)")

    def __setattr__(self, name: str, value: Any) -> None:
        object.__setattr__(self, name, value)
        # Parameters or sub-modules joining the tree get names saying where they
        # sit ('0.neurons.3.w.5'), so the leaves of a rendered graph are readable.
        if isinstance(value, Module) or _is_params(value) or _holds_modules(value):
            self._name_new_parameters(value)

    def _name_new_parameters(self, value: Any) -> None:
        # Only the subtree that just joined is walked, so building a model attribute by
        # attribute costs time linear in its size. Its unnamed parameters, and those whose
        # name is the tail of their path here (a name given by a sub-module before it was
        # adopted), are renamed; a name that already points at the same parameter in this
        # module (one shared with an earlier attribute) is kept.
        members = {id(v) for v in value} if isinstance(value, (list, tuple)) else set()
        entries = None
        seen = set()
        for entry, held in self._entries():
            if held is not value and id(held) not in members:
                continue
            tensors = held._named_tensors(entry) if isinstance(held, Module) else [(entry, held)]
            for tensor_name, tensor in tensors:
                for path, p in named_leaves(tensor, tensor_name):
                    if p in seen:
                        continue
                    seen.add(p)
                    if p.name is None:
                        p.name = path
                    elif path.endswith("." + p.name):
                        if entries is None:
                            entries = dict(self._entries())
                        if _find(entries, p.name) is not p:
                            p.name = path

    # ---- the tree -----------------------------------------------------------

    def _entries(self) -> Iterator[tuple[str, Any]]:
        """(name, value) for each attribute holding a child module or parameters, in order."""
        for name, value in vars(self).items():
            if isinstance(value, Module) or _is_params(value):
                yield name, value
            elif isinstance(value, (list, tuple)) and value and isinstance(value[0], Module):
                for i, child in enumerate(value):
                    if isinstance(child, Module):
                        yield f"{name}.{i}", child

    def named_children(self) -> Iterator[tuple[str, Module]]:
        """Direct sub-modules with their attribute names."""
        for name, value in self._entries():
            if isinstance(value, Module):
                yield name, value

    def children(self) -> Iterator[Module]:
        """Direct sub-modules."""
        for _, child in self.named_children():
            yield child

    def named_modules(self, prefix: str = "") -> Iterator[tuple[str, Module]]:
        """This module and every module below it, depth first."""
        yield prefix, self
        for name, child in self.named_children():
            yield from child.named_modules(f"{prefix}.{name}" if prefix else name)

    def _named_tensors(self, prefix: str = "") -> Iterator[tuple[str, Any]]:
        """(name, Scalar or nested list of Scalars) for every parameter entry, in order."""
        for name, value in self._entries():
            full = f"{prefix}.{name}" if prefix else name
            if isinstance(value, Module):
                yield from value._named_tensors(full)
            else:
                yield full, value

    def named_parameters(self, prefix: str = "") -> Iterator[tuple[str, Scalar]]:
        """(name, Scalar) for every parameter, e.g. ``('0.neurons.3.w.5', w)``; shared ones once."""
        seen = set()
        for name, value in self._named_tensors(prefix):
            for full, p in named_leaves(value, name):
                if p not in seen:
                    seen.add(p)
                    yield full, p

    def parameters(self) -> list[Scalar]:
        """All parameters as a list, in a stable order (weights before bias, layer by layer)."""
        return [p for _, p in self.named_parameters()]

    def num_parameters(self) -> int:
        """How many Scalars the optimizer will update."""
        return len(self.parameters())

    def zero_grad(self, set_to_none: bool = False) -> None:
        """Set every parameter's gradient to 0 (to None with ``set_to_none=True``, as torch can)."""
        value = None if boolean(set_to_none, "set_to_none") else 0.0
        for p in self.parameters():
            p.grad = value

    def name_parameters(self) -> Module:
        """Set every parameter's ``name`` to its path in this model, replacing any name it had.

        Modules name their parameters this way on their own as they are put
        together; call it to re-name after moving parameters around.
        """
        for name, p in self.named_parameters():
            p.name = name
        return self

    def train(self, mode: bool = True) -> Module:
        """Switch this module and all below it to training mode (or eval with ``mode=False``)."""
        for _, m in self.named_modules():
            m.training = mode
        return self

    def eval(self) -> Module:
        """Switch to evaluation mode (e.g. Dropout passes inputs through)."""
        return self.train(False)

    # ---- state -------------------------------------------------------------

    def state_dict(self) -> dict[str, Any]:
        """Parameter values as plain floats: ``{'0.neurons.0.w': [0.1, ...], '0.neurons.0.b': 0.2}``."""
        return {name: map_leaves(_value_of, value) for name, value in self._named_tensors()}

    def load_state_dict(self, state_dict: dict[str, Any], strict: bool = True) -> None:
        """Copy values from ``state_dict`` into the parameters.

        Every key, shape and value is checked first; on any problem a
        ValueError lists the missing, unexpected and mis-shaped entries and
        the model is left unchanged. With ``strict=False`` missing and
        unexpected keys are allowed (shapes still have to match).
        """
        if not isinstance(state_dict, dict):
            raise TypeError(f"load_state_dict expects a dict, got {type(state_dict).__name__}")
        own = dict(self._named_tensors())
        state_dict = {key: to_lists(value) for key, value in state_dict.items()}  # numpy arrays as lists
        missing = [k for k in own if k not in state_dict]
        unexpected = [k for k in state_dict if k not in own]
        problems = []
        for key, params in own.items():
            if key not in state_dict:
                continue
            value = state_dict[key]
            expected, got = shape(params), shape(value)
            if expected != got or not is_regular(value, expected):
                problems.append(f"{key}: expected shape {list(expected)}, got {_describe_shape(value)}")
            else:
                _check_values(value, key, problems)
        if strict and (missing or unexpected):
            if missing:
                problems.insert(0, "missing keys: " + ", ".join(missing))
            if unexpected:
                problems.insert(0 if not missing else 1,
                                "unexpected keys: " + ", ".join(map(str, unexpected)))
        if problems:
            raise ValueError(f"cannot load state dict into {type(self).__name__}:\n  "
                             + "\n  ".join(problems))
        for key, params in own.items():
            if key in state_dict:  # everything was checked above, so shapes match here
                for p, v in zip(leaves(params), leaves(state_dict[key])):
                    p.data = float(v)

    def save(self, path: str) -> None:
        """Write this model's state dict to ``path`` as JSON, atomically."""
        serialization.save(self, path)

    def load(self, path: str, strict: bool = True) -> Module:
        """Load parameters saved with ``save`` (checked first; no code is run)."""
        state = serialization.load(path)
        if isinstance(state, dict) and "model" in state and isinstance(state["model"], dict) \
                and not any(k == "model" for k, _ in self._named_tensors()):
            state = state["model"]
        self.load_state_dict(state, strict=strict)
        return self

    def plot(self, path: str | None = None, input_size: int | tuple[int, ...] | None = None,
             format: str | None = None, rankdir: str = "TB") -> Any:
        """Draw the layers as a diagram with graphviz; see ``scalargrad.viz.plot_model``."""
        from ..viz import plot_model  # facade for the optional graphviz extra; viz sits above nn

        return plot_model(self, path=path, input_size=input_size, format=format, rankdir=rankdir)

    # ---- PyTorch -------------------------------------------------------------

    def to_torch(self) -> Any:
        """An equivalent ``torch.nn.Module`` in float64 (built-in layers; others implement to_torch()).

        A Linear or Conv2D with an activation becomes a ``torch.nn.Sequential``
        of the layer and the activation; a Sequential becomes a flat one.
        """
        from .interop import to_torch  # facade for the optional torch extra; interop sits above the layers

        return to_torch(self)

    @classmethod
    def from_torch(cls, torch_module: Any, activation: str | None = None) -> Module:
        """Read a ``torch.nn`` module into this class: ``Linear.from_torch(torch_linear, activation='relu')``.

        ``Sequential.from_torch`` reads a ``torch.nn.Sequential`` of Linear,
        Conv2d, MaxPool2d, Flatten, Dropout and activations, folding an
        activation that follows a Linear or Conv2d into it. ``activation``
        (default identity) applies to Linear and Conv2D only. Weights are copied
        as float64, so outputs match PyTorch's.
        """
        from .interop import from_torch  # facade for the optional torch extra; interop sits above the layers

        return from_torch(cls, torch_module, activation)

    # ---- display -----------------------------------------------------------

    # True on modules that show as one row in summary() and plot() even though
    # they have sub-modules (a Linear's neurons are an implementation detail).
    listed_as_one_layer: bool = False

    def summary(self, input_size: int | tuple[int, ...] | None = None) -> ModelSummary:
        """A table of the layers in the order data flows, with their output sizes and parameter counts.

        The model is run once on zeros of ``input_size`` (``16`` for a
        vector, ``(1, 8, 8)`` for an image), without recording a graph, so
        every output size is known; without it, an input size is taken from
        the layers (a Linear's ``size_in``) when the model runs on it, else
        the layers are listed in attribute order (see ``layer_table``).

        Like torchinfo's summary, it prints the table and returns it, except
        in Python's REPL, IPython or a Jupyter notebook, which show a line's
        value themselves: there it only returns the table, which shows when
        ``model.summary()`` is the line typed or ends a notebook cell (elsewhere
        in a cell, ``print(model.summary())``). The result is a ``ModelSummary``:
        the table as a ``str``, with ``rows`` and ``total_parameters`` for programs.

        >>> from scalargrad.nn import Sequential, Linear
        >>> model = Sequential([Linear(4, 3, activation='relu'), Linear(3, 2)])
        >>> table = model.summary()  # doctest: +NORMALIZE_WHITESPACE
        Layer                     Type                  Output size     Parameters
        ==========================================================================
        0                         Linear(relu)          3               15
        1                         Linear                2               8
        ==========================================================================
        Total parameters: 23
        """
        table = ModelSummary.from_rows(layer_table(self, input_size), self.num_parameters())
        if not in_interactive_session():  # there the returned table shows: printing it would show it twice
            print(table)
        return table

    def extra_repr(self) -> str:
        """The text inside this module's parentheses in ``repr``."""
        return ""

    def __repr__(self) -> str:
        children = list(self.named_children())
        if not children:
            return f"{type(self).__name__}({self.extra_repr()})"
        lines = [f"{type(self).__name__}("]
        if self.extra_repr():
            lines.append("  " + self.extra_repr())
        for name, child in children:
            text = repr(child).replace("\n", "\n  ")
            lines.append(f"  ({name}): {text}")
        lines.append(")")
        return "\n".join(lines)


_PLAIN = (Scalar, float, int, list, tuple, type(None))  # what _nesting may find first, not an array
_NUMBERS = frozenset((Scalar, float, int))  # the exact types of a flat sample's usual elements


def _nesting(x: Any, limit: int) -> tuple[int, Any]:
    """How many levels of lists ``x`` has along its first elements (up to ``limit``), and the first
    element below them (None where a list is empty)."""
    depth = 0
    while depth < limit and isinstance(x, (list, tuple)):
        depth += 1
        if not x:
            return depth, None
        x = x[0]
    return depth, x


def _uneven(batch: list | tuple, depth: int) -> bool:
    """Whether the samples of ``batch`` differ in shape (read along first elements; ``forward`` checks the
    rest of each sample)."""
    if depth == 1:  # the common case, at C speed
        n = len(batch[0])
        return any(not isinstance(sample, (list, tuple)) or len(sample) != n for sample in batch)
    dims = shape(batch[0])
    return any(shape(sample) != dims for sample in batch)


def _describe_input(x: Any) -> str:
    """What a module was given, for an error: "a list of 2 lists of 4", "lists shaped [2][1][5][5]"."""
    if not is_nested(x):
        return f"a {type(x).__name__}"
    ragged = ragged_description(x, "x")
    if ragged is not None:
        return f"a ragged list ({ragged})"
    dims = shape(x)
    if len(dims) == 1:
        return f"a list of {dims[0]} values"
    if len(dims) == 2:
        return f"a list of {dims[0]} lists of {dims[1]}"
    return "lists shaped " + "".join(f"[{n}]" for n in dims)


def _find(entries: dict[str, Any], path: str) -> Any:
    """What ``path`` (e.g. ``'0.neurons.1.w.2'``) names below a module whose entries are ``entries``, or
    None."""
    parts = path.split(".")
    node: Any = None
    i = 0
    while i < len(parts):
        if entries is not None:  # at a module: an entry name may hold a dot ('neurons.0')
            key = next((k for k in (parts[i], ".".join(parts[i:i + 2])) if k in entries), None)
            if key is None:
                return None
            node, i = entries[key], i + key.count(".") + 1
        elif isinstance(node, (list, tuple)) and parts[i].isdigit() and int(parts[i]) < len(node):
            node, i = node[int(parts[i])], i + 1
        else:
            return None
        entries = dict(node._entries()) if isinstance(node, Module) else None
    return node


def _describe_shape(value) -> str:
    if isinstance(value, (list, tuple)):
        return f"a ragged or mis-sized list (outer shape {list(shape(value))})"
    return f"a {type(value).__name__}" if not isinstance(value, (int, float)) else "a number (shape [])"
