"""Graph replay: build a graph once over placeholder inputs, then run it again on new values.

Building a graph makes one node object per op and sorts the nodes before
every backward pass; in a training loop whose graph has the same shape at
every step, that work repeats. ``Replay`` builds the graph once, keeps its
nodes in topological order, and at each step recomputes every node in place
from its parents' current data: no new objects and no sort. Values and
gradients are the ones a rebuilt graph of the same structure gives, bit for
bit, because every op replays the exact float expression it used when it made
its node.

The structure must not depend on the data. While a Replay builds its graph,
``functional.linear`` keeps ReLUs that are off (as nodes whose derivative is
0; a normal build leaves them out), ``MaxPool2D`` makes one node per window
(``functional.window_max``) that picks the maximum again at every step, and
``Dropout`` in training mode refuses to build, since its mask would be frozen.
Python control flow on values (``if x > 0``) is frozen at the first build: use
a Replay only for code whose ops do not depend on the values.

>>> from scalargrad import Scalar
>>> x, w, b = Scalar(0.0), Scalar(2.0), Scalar(0.5)   # x is the placeholder
>>> step = Replay(lambda: (w * x + b) ** 2, inputs=[x])
>>> step.forward([1.0])                                # (2 * 1 + 0.5) ** 2
6.25
>>> step.backward()
>>> w.grad, b.grad
(5.0, 5.0)
>>> step.forward([3.0]), len(step)                     # same 3 nodes, new values
(42.25, 3)
"""

from .replay import Replay

__all__ = ["Replay"]
