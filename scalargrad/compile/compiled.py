"""``CompiledGraph``: a Replay's graph written out as one Python function, and ``compile_graph``."""

from __future__ import annotations

from collections.abc import Sequence
from types import CodeType, FunctionType
from typing import Any, Callable

from .._util.checks import one_of
from ..replay.replay import Placeholders, Replay
from ..scalar import Scalar
from .fast import write_fast_source
from .names import def_name
from .source import input_names, write_source

__all__ = ["CompiledGraph", "compile_graph"]

_CODE: dict[str, CodeType] = {}  # source -> the function's code: graphs of the same structure share it
_MAX_CACHED = 64
FORMS = {"fast": write_fast_source, "readable": write_source}  # form -> the writer of its source


class CompiledGraph:
    """A fixed graph as straight-line Python: ``compiled(values)`` runs forward and backward at once.

    Built from a ``Replay`` (same placeholders, same refusals of graphs whose
    structure depends on the data). A call feeds ``values`` to the inputs (a
    list, or by name as ``Replay.forward``), computes every node with plain
    floats, adds the gradients of the parameters (the leaves that are not
    inputs) into their ``.grad`` as ``backward()`` does, and returns the
    output's value: the same bits as the rebuilt graph up to CPython 3.11
    and on PyPy (see ``scalargrad.compile`` for 3.12's ``sum()``). The
    inputs get no gradient, and the Replay's nodes keep the values of their
    last ``forward()``. ``source`` is the function's text, to print or save.

    ``form="fast"`` writes each layer (the neurons one set of weights
    computes, sample after sample) once, as a loop over its runs; the rest,
    one line per node. ``form="readable"`` writes every node and every
    local-derivative product on its own line, commented with its op: the
    chain rule as a worked example. The two forms add in the same order (so,
    where the note above allows, the same bits).

    ``parameters`` lists the parameters in the order the graph reads them,
    or with those in ``parameter_order`` first, in its order (a model's
    ``parameters()``: ``gradient_values`` then takes and gives them in the
    model's order).

    >>> from scalargrad import Scalar
    >>> x, w, b = Scalar(0.0, name='x'), Scalar(2.0, name='w'), Scalar(0.5, name='b')
    >>> step = compile_graph(lambda: w * x + b, inputs=[x])
    >>> step([3.0]), w.grad, b.grad
    (6.5, 3.0, 1.0)
    """

    def __init__(self, replay: Replay, function_name: str = "step", form: str = "fast",
                 parameter_order: Sequence[Scalar] = ()) -> None:
        if not isinstance(replay, Replay):
            raise TypeError(f"CompiledGraph needs a Replay, got {type(replay).__name__}")
        one_of(form, "form", tuple(FORMS))
        function_name = def_name(function_name)  # as Python reads it (NFKC), a plain str
        self.replay, self.form = replay, form
        names = input_names(replay.input_shapes, len(replay.inputs))
        self.source, namespace = FORMS[form](function_name, replay.inputs, replay.output, replay.nodes, names,
                                             parameter_order)
        code = _CODE.get(self.source)
        if code is None:
            if len(_CODE) >= _MAX_CACHED:
                _CODE.clear()
            module = compile(self.source, f"<compiled {function_name}>", "exec")
            code = _CODE[self.source] = next(c for c in module.co_consts if isinstance(c, CodeType))
        self.function: Callable[..., float] = FunctionType(code, namespace, function_name)
        self._globals = namespace
        self.parameters: tuple[Scalar, ...] = namespace["params"]  # the leaves that are not inputs

    def gradient_values(self, weights: Sequence[float], values: Any = None, /,
                        **named: Any) -> tuple[float, tuple]:
        """Forward and backward at the parameter values ``weights`` (in ``parameters``' order), on plain
        floats (the fast form): the output, and the gradient of each of ``parameters``. The inputs are
        fed as a call feeds them (``values``, or by name); no parameter's ``.data`` or ``.grad`` is read
        or written: a data-parallel worker runs the step at the weights it was sent. A gradient is the
        sum the call would add into a zeroed ``.grad``, except that -0.0 stays -0.0 where ``.grad``
        would hold 0.0.

        >>> from scalargrad import Scalar
        >>> x, w, b = Scalar(0.0, name='x'), Scalar(2.0, name='w'), Scalar(0.5, name='b')
        >>> step = compile_graph(lambda: w * x + b, inputs=[x])
        >>> [p.name for p in step.parameters]
        ['w', 'b']
        >>> step.gradient_values([1.0, 0.0], [3.0]), w.grad, w.data
        ((3.0, (3.0, 1.0)), 0.0, 2.0)
        """
        if self.form != "fast":
            raise ValueError("gradient_values needs the fast form (CompiledGraph(..., form='fast'))")
        if len(weights) != len(self.parameters):
            raise ValueError(f"gradient_values needs {len(self.parameters)} weights, got {len(weights)}")
        name = self.function.__name__
        # fed as a call feeds them: an op with shared values (a class index) reads its inputs' .data
        self.replay.feed(values, f"{name}.gradient_values()", **named)
        gradients: list = []
        # The same code, its first and last lines reading the weights given and keeping the gradients
        floats = {**self._globals, "values_of": lambda _params: weights,
                  "add_grads": lambda _params, grads: gradients.append(grads)}
        output = FunctionType(self.function.__code__, floats, name)(*[p.data for p in self.replay.inputs])
        return output, gradients[0]

    def __call__(self, values: Any = None, /, **named: Any) -> float:
        """Feed the values (as ``Replay.forward`` takes them), run forward and backward, return the output."""
        self.replay.feed(values, f"{self.function.__name__}()", **named)
        return self.function(*[p.data for p in self.replay.inputs])

    def __len__(self) -> int:
        """The number of nodes computed by each call."""
        return len(self.replay)

    def __repr__(self) -> str:
        inputs, chars = len(self.replay.inputs), len(self.source)
        return f"CompiledGraph({len(self)} nodes, {inputs} inputs, {chars} chars of source)"


def compile_graph(build: Callable[[], Scalar], inputs: Placeholders = (),
                  function_name: str = "step", form: str = "fast") -> CompiledGraph:
    """Build the graph once over the placeholder ``inputs`` (as ``Replay``) and compile it to one function.

    Values, lists or named nested lists are fed at each call; ``form`` is "fast" or "readable". See
    ``CompiledGraph``.
    """
    return CompiledGraph(Replay(build, inputs), function_name, form)



