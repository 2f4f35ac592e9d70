"""Other libraries' APIs on scalargrad's engine, so code written for them runs with one import changed.

``scalargrad.compat.micrograd``: micrograd's ``Value``, ``Module``, ``Neuron``, ``Layer`` and ``MLP``
under micrograd's names and signatures (see ``docs/coming-from-micrograd-and-pytorch.md``).
"""

from . import micrograd

__all__ = ["micrograd"]
