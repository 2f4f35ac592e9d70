"""Compiled graphs: a fixed graph written out as one Python function.

``compile_graph(build, inputs)`` builds the graph once over placeholder
inputs, as ``scalargrad.replay.Replay`` does (with the same refusals), and
writes the forward and backward passes as Python source. Calling
``compiled(values)`` runs it, adding the parameters' gradients into their
``.grad`` as ``backward()`` does, with the same bits as the rebuilt graph.

Two forms: ``form='readable'`` (``source.py``) writes one line per node and
one per local-derivative product, named after the Scalars: printing
``compiled.source`` shows the chain rule at work. ``form='fast'`` (the
default; ``layers.py`` finds the layers, ``fast.py`` writes them) writes each
layer once, as a loop over the samples, and the other nodes line by line.

Each op's line comes from its declaration (``Op(..., inline=...)``); an op
without an inline form is called through its own float functions, so ops
made with ``scalargrad.extend.defop`` compile as they are. Every name in the
source comes from one namer (``names.py``): no user's text and no value's
``repr`` becomes code.

>>> from scalargrad import Scalar
>>> x0, w0, b = Scalar(0.0, name='x0'), Scalar(0.5, name='w0'), Scalar(0.1, name='b')
>>> f = compile_graph(lambda: x0 * w0 + b, inputs=[x0])
>>> f([2.0]), w0.grad
(1.1, 2.0)
"""

from .compiled import CompiledGraph, compile_graph

__all__ = ["CompiledGraph", "compile_graph"]
