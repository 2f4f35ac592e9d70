"""Compiled graphs: a fixed graph written out as one Python function.

``compile_graph(build, inputs)`` builds the graph once over placeholder
inputs, as ``scalargrad.replay.Replay`` does (with the same refusals), and
writes the forward and backward passes as Python source. Calling
``compiled(values)`` runs it, adding the parameters' gradients into their
``.grad`` as ``backward()`` does, with the same bits as the rebuilt graph
up to CPython 3.11 and on PyPy. (From CPython 3.12, ``sum()`` of floats
compensates its rounding, which the additions written out do not: results
then agree within the bound ``templates.py`` states.)

Two forms: ``form='readable'`` (``source.py``) writes one line per node and
one per local-derivative product, named after the Scalars: printing
``compiled.source`` shows the chain rule at work. ``form='fast'`` (the
default; ``layers.py`` finds the layers, ``plan.py`` orders them with the
other nodes, ``fast.py`` writes them) writes each layer once, as a loop over
the samples, and the other nodes line by line.

Each op's line comes from its template (``templates.py``: a table keyed by
the ops, which hold only their math); an op without a template is called
through its own float functions, so ops made with ``scalargrad.extend.defop``
compile as they are (``defop(..., inline=...)`` or ``register_template``
gives one a template). Every name in the source comes from one namer
(``names.py``): no user's text and no value's ``repr`` becomes code.

>>> from scalargrad import Scalar
>>> x0, w0, b = Scalar(0.0, name='x0'), Scalar(0.5, name='w0'), Scalar(0.1, name='b')
>>> f = compile_graph(lambda: x0 * w0 + b, inputs=[x0])
>>> f([2.0]), w0.grad
(1.1, 2.0)
"""

from .compiled import CompiledGraph, compile_graph
from .templates import register_template

__all__ = ["CompiledGraph", "compile_graph", "register_template"]
