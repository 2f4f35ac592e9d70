"""``Replay``: a graph built once over placeholder inputs, recomputed in place at every step."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Callable, Union

from .._util.nested import element_name, regular_leaves, to_lists
from ..scalar import (
    Number,
    Scalar,
    anomaly_checker,
    as_float,
    backward_lock,
    backward_order,
    declaration,
    enable_grad,
    recompute_function,
    run_backward,
)
from ..walk import leaves_read_by
from .build import SharedValues, end_build, start_build

if TYPE_CHECKING:
    from ..compile import CompiledGraph

__all__ = ["Placeholders", "Replay"]

Placeholders = Union[Iterable[Scalar], Mapping[str, Any]]
"""What a Replay (and ``compile_graph``) takes as its inputs: a list of leaves, or names -> a leaf or nested
lists of leaves."""


def _scalars_in_constant(node: Scalar) -> list:
    """The Scalars ``node``'s recomputation reads through its constant (a target a Replay feeds)."""
    constant = declaration(node)[1]
    held = constant if type(constant) in (tuple, list) else (constant,)
    return [v for v in held if type(v) is Scalar]


def _shared_inputs(node: Scalar) -> tuple:
    """The shared values (objects with ``refresh()``) that ``node``'s op reads while it is recomputed."""
    op, constant = declaration(node)
    return () if op is None or op.shared is None else tuple(op.shared(constant))


class Replay:
    """A graph built once by ``build()`` and re-run in place by ``forward()``/``backward()``.

    ``inputs`` are the leaf Scalars you will feed (a batch's inputs and
    targets); they receive no gradient where a layer reads them.
    ``forward(values)`` writes ``values`` into them in order (or leaves them
    as you set them), recomputes every node, and returns the output's value.
    ``backward()`` then behaves as ``output.backward()``: leaf gradients
    accumulate, so call ``optimizer.zero_grad()`` between steps as usual.
    Parameters are read at every ``forward()``, so optimizer steps show up.

    Inputs may also be named, each a leaf Scalar or nested lists of them
    (a batch, an image): ``Replay(build, inputs={'x': xs, 'y': ys})``, then
    ``forward(x=..., y=...)`` with values of the same shapes.

    >>> from scalargrad import Scalar
    >>> xs, w = [Scalar(0.0), Scalar(0.0)], Scalar(3.0)
    >>> step = Replay(lambda: (xs[0] - xs[1]) * w, inputs={'x': xs})
    >>> step.forward(x=[5.0, 1.0])
    12.0
    """

    def __init__(self, build: Callable[[], Scalar], inputs: Placeholders = ()) -> None:
        if not callable(build):
            raise TypeError(f"Replay needs a function that builds the graph, got {type(build).__name__}")
        self._named: dict[str, tuple[int, ...]] | None = None  # name -> shape, for named inputs
        inputs = self._read_named(inputs) if isinstance(inputs, Mapping) else list(inputs)
        for i, p in enumerate(inputs):
            if not isinstance(p, Scalar):
                raise TypeError(f"Replay inputs must be Scalars, {self._label(i)} is {type(p).__name__}")
            if not p.is_leaf:
                raise ValueError(f"Replay {self._label(i)} is computed by an op; inputs must be leaves")
        start_build(inputs)
        try:
            with enable_grad():
                output = build()
        finally:
            end_build()
        if not isinstance(output, Scalar):
            raise TypeError(f"the build function must return a Scalar, got {type(output).__name__}")
        if output.is_leaf:
            raise ValueError("the build function returned a leaf (no ops recorded): "
                             "there is nothing to replay")
        earlier_grads = []
        order = backward_order(output, earlier_grads)
        for leaf, old in earlier_grads:  # the sort zeroed them; this is not a backward pass
            leaf.grad = old
        unread = {id(p): i for i, p in enumerate(inputs)}  # fed inputs no node has read yet
        steps, refreshed = [], set()
        for node in order:
            recompute = recompute_function(node)
            if recompute is None:
                raise ValueError(f"op {node.op!r} cannot be replayed (its value is not recomputable from its "
                                 f"inputs); rebuild the graph instead")
            for shared in _shared_inputs(node):
                if id(shared) not in refreshed:  # refreshed once per forward, before its first reader
                    refreshed.add(id(shared))
                    steps.append((SharedValues.refresh, shared))
                    for p in shared.sources:
                        unread.pop(id(p), None)
            for p in _scalars_in_constant(node):
                unread.pop(id(p), None)
            steps.append((recompute, node))
        leaves = leaves_read_by(order)
        for p in leaves:
            unread.pop(id(p), None)
        if unread:
            i = min(unread.values())
            raise ValueError(f"Replay {self._label(i)} (value {inputs[i].data!r}) never reaches the graph: "
                             f"the build read it as a number (float() or .data), so every step would reuse "
                             f"that value; use it as a Scalar in the build function")
        self.output = output
        self.inputs = inputs
        self._order = order
        self._steps = steps
        self._leaves = leaves

    def __len__(self) -> int:
        """The number of recorded nodes (ops) recomputed by each ``forward()``."""
        return len(self._order)

    def __repr__(self) -> str:
        if self._named is None:
            inputs = f"{len(self.inputs)} inputs"
        else:
            inputs = "inputs " + ", ".join(f"{name} {dims}" for name, dims in self._named.items())
        return f"Replay({len(self._order)} nodes, {inputs}, output={self.output.data!r})"

    def _read_named(self, placeholders: Mapping[str, Any]) -> list:
        """The fed Scalars of named inputs in order, noting each name's shape."""
        self._named, flat = {}, []
        for name, value in placeholders.items():
            if not isinstance(name, str):
                raise TypeError(f"Replay input names must be strings, got {type(name).__name__} {name!r}")
            self._named[name], values = regular_leaves(value, name, f"Replay input {name!r}")
            flat += values
        return flat

    def _label(self, position: int) -> str:
        """How messages call the fed Scalar at ``position``: "input 3", or "input 'x'[1][0]" when named."""
        if self._named is None:
            return f"input {position}"
        for name, dims in self._named.items():
            if position < math.prod(dims):
                return f"input {element_name(repr(name), position, dims)}"
            position -= math.prod(dims)
        raise IndexError(position)

    def _named_values(self, named: dict[str, Any], caller: str) -> list:
        """The numbers of ``forward(x=..., y=...)`` in the inputs' order, names and shapes checked."""
        missing = [name for name in self._named if name not in named]
        extra = [name for name in named if name not in self._named]
        if missing or extra:
            problems = [f"{what} {', '.join(map(repr, names))}"
                        for what, names in (("missing", missing), ("unknown", extra)) if names]
            raise TypeError(f"{caller}: {'; '.join(problems)} (this Replay's inputs: "
                            f"{', '.join(map(repr, self._named))})")
        values = []
        for name, dims in self._named.items():
            given, numbers = regular_leaves(to_lists(named[name]), name, f"{caller}: input {name!r}")
            if given != dims:
                raise ValueError(f"{caller}: input {name!r} has shape {given}, but it was built with "
                                 f"shape {dims}")
            values += numbers
        return values

    @property
    def input_shapes(self) -> dict[str, tuple[int, ...]] | None:
        """Each input name's shape (``()`` for one Scalar), or None when the inputs are a plain list."""
        return None if self._named is None else dict(self._named)

    @property
    def nodes(self) -> list[Scalar]:
        """The recorded nodes in the order ``forward()`` recomputes them (every node after its inputs)."""
        return list(self._order)

    def forward(self, values: Sequence[Number] | None = None, /, **named: Any) -> float:
        """Feed ``values`` to the inputs (if given), recompute every node, return the output's value.

        With named inputs, feed them by name instead: ``forward(x=..., y=...)``.
        """
        self.feed(values, **named)
        anomaly = anomaly_checker()
        if anomaly is None:
            for run, target in self._steps:  # node recomputations, and refreshes of shared values
                run(target)
        else:  # inside detect_anomaly(): check each node's new value
            for run, target in self._steps:
                run(target)
                if type(target) is Scalar:
                    anomaly.check_forward(target)
        return self.output.data

    def feed(self, values: Sequence[Number] | None = None, caller: str = "Replay.forward", /,
             **named: Any) -> None:
        """Write ``values`` (or the named values) into the inputs' data, checked as in ``forward()``;
        error messages name ``caller``."""
        if self._named is None and named:
            raise TypeError(f"{caller}: this Replay's inputs have no names; pass a list of values, not "
                            f"{', '.join(map(repr, named))}")
        if self._named is not None and values is not None:
            raise TypeError(f"{caller}: this Replay's inputs are named; pass them by name ("
                            f"{', '.join(f'{name}=...' for name in self._named)})")
        if named:
            values = self._named_values(named, caller)
        if values is not None:
            values = to_lists(values, deep=False)
            if len(values) != len(self.inputs):
                raise ValueError(f"{caller} got {len(values)} values for {len(self.inputs)} inputs")
            for p, v in zip(self.inputs, values):
                p.data = v if type(v) is float else as_float(v, "Replay input")

    def compile(self, form: str = "fast") -> CompiledGraph:
        """This graph as one Python function: a ``scalargrad.compile.CompiledGraph``.

        Calling it with the values ``forward()`` takes runs forward and backward
        at once and returns the output's value; ``.source`` is its text, in the
        ``form`` "fast" (layers as loops) or "readable" (one line per node).

        >>> from scalargrad import Scalar
        >>> x, w = Scalar(0.0), Scalar(3.0)
        >>> step = Replay(lambda: x * w, inputs=[x]).compile()
        >>> step([2.0]), w.grad
        (6.0, 2.0)
        """
        from ..compile import CompiledGraph  # here, not at the top: compile is built on replay and imports it

        return CompiledGraph(self, form=form)

    def backward(self, grad: Number = 1.0, create_graph: bool = False) -> None:
        """``output.backward(grad, create_graph)`` with the cached order: leaf gradients accumulate."""
        grad = as_float(grad, "backward grad")
        with backward_lock:
            earlier_grads = []
            # as Scalar.backward: add this pass's sum to the old value once, at the end
            for leaf in self._leaves:
                if leaf.grad != 0.0:
                    earlier_grads.append((leaf, leaf.grad))
                    leaf.grad = 0.0
            for node in self._order:
                node.grad = 0.0
            run_backward(self.output, self._order, grad, earlier_grads, create_graph)
