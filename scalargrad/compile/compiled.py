"""``CompiledGraph``: a Replay's graph written out as one Python function, and ``compile_graph``."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from types import CodeType, FunctionType
from typing import Any, Callable, Union

from ..replay import Replay
from ..scalar import Scalar
from .source import input_names, write_source

__all__ = ["CompiledGraph", "compile_graph"]

Placeholders = Union[Iterable[Scalar], Mapping[str, Any]]
_CODE: dict[str, CodeType] = {}  # source -> the function's code: graphs of the same structure share it
_MAX_CACHED = 64


class CompiledGraph:
    """A fixed graph as straight-line Python: ``compiled(values)`` runs forward and backward at once.

    Built from a ``Replay`` (same placeholders, same refusals of graphs whose
    structure depends on the data). A call feeds ``values`` to the inputs (a
    list, or by name as ``Replay.forward``), computes every node with plain
    floats, adds the gradients of the parameters (the leaves that are not
    inputs) into their ``.grad`` as ``backward()`` does, and returns the
    output's value: the same bits as the rebuilt graph. The inputs get no
    gradient, and the Replay's nodes keep the values of their last
    ``forward()``. ``source`` is the function's text, to print or save.

    >>> from scalargrad import Scalar
    >>> x, w, b = Scalar(0.0, name='x'), Scalar(2.0, name='w'), Scalar(0.5, name='b')
    >>> step = compile_graph(lambda: w * x + b, inputs=[x])
    >>> step([3.0]), w.grad, b.grad
    (6.5, 3.0, 1.0)
    """

    def __init__(self, replay: Replay, function_name: str = "step") -> None:
        if not isinstance(replay, Replay):
            raise TypeError(f"CompiledGraph needs a Replay, got {type(replay).__name__}")
        self.replay = replay
        names = input_names(replay.input_shapes, len(replay.inputs))
        self.source, namespace = write_source(function_name, replay.inputs, replay.output, replay.nodes, names)
        code = _CODE.get(self.source)
        if code is None:
            if len(_CODE) >= _MAX_CACHED:
                _CODE.clear()
            module = compile(self.source, f"<compiled {function_name}>", "exec")
            code = _CODE[self.source] = next(c for c in module.co_consts if isinstance(c, CodeType))
        self.function: Callable[..., float] = FunctionType(code, namespace, function_name)

    def __call__(self, values: Any = None, /, **named: Any) -> float:
        """Feed the values (as ``Replay.forward`` takes them), run forward and backward, return the output."""
        self.replay.feed(values, **named)
        return self.function(*[p.data for p in self.replay.inputs])

    def __len__(self) -> int:
        """The number of nodes computed by each call."""
        return len(self.replay)

    def __repr__(self) -> str:
        inputs, chars = len(self.replay.inputs), len(self.source)
        return f"CompiledGraph({len(self)} nodes, {inputs} inputs, {chars} chars of source)"


def compile_graph(build: Callable[[], Scalar], inputs: Placeholders = (),
                  function_name: str = "step") -> CompiledGraph:
    """Build the graph once over the placeholder ``inputs`` (as ``Replay``) and compile it to one function.

    ``Number`` values, lists or named nested lists are fed at each call; see ``CompiledGraph``.
    """
    return CompiledGraph(Replay(build, inputs), function_name)



