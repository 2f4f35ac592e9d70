"""Pictures: the computational graph of a Scalar and a model's layers (graphviz), training plots (matplotlib).

graphviz (the Python package and the ``dot`` program) and matplotlib are
optional and imported only when a picture is asked for: ``draw_graph``
(``viz.graph``), ``explore_graph`` (``viz.explore``: an HTML page that steps
through the forward and backward passes), ``plot_model`` (``viz.model``),
``plot_history`` (loss and metric curves) and ``plot_decision_boundary`` (a
2-D classifier's regions) (``viz.plots``). In a Jupyter notebook each of
them shows inline when it is a cell's value (``viz.notebook`` tells a kernel
from a script).

>>> from scalargrad import Scalar
>>> x = Scalar(2.0, name='x')
>>> y = (x * x).relu()
>>> y.backward()
>>> dot = draw_graph(y, show=False)  # only the Digraph; y.render() in a script opens a viewer
>>> 'relu' in dot.source and 'grad 4' in dot.source
True
"""

from .explore import explore_graph
from .graph import draw_graph
from .model import plot_model
from .plots import plot_decision_boundary, plot_history

__all__ = ["draw_graph", "explore_graph", "plot_decision_boundary", "plot_history", "plot_model"]
