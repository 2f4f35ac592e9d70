"""Sequential: modules applied one after another."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from .module import Module

__all__ = ["Sequential"]


class Sequential(Module):
    """Modules applied one after another.

    A batch (a list of samples) goes through as it is: each layer takes it
    and returns the list of its outputs (``Module.__call__``).

    >>> from scalargrad.nn import Linear
    >>> model = Sequential([Linear(2, 4, activation='relu'), Linear(4, 2)])
    >>> len(model), len(model([1.0, 0.0])), [len(y) for y in model([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])]
    (2, 2, [2, 2, 2])
    """

    def __init__(self, modules: Sequence[Module], do_initialize: bool = False) -> None:
        super().__init__()
        modules = list(modules)
        for i, m in enumerate(modules):
            if not isinstance(m, Module):
                raise TypeError(f"Sequential item {i} is a {type(m).__name__}, not a Module")
        self.modules = modules
        if do_initialize:  # the original scalargrad's API
            for m in modules:
                if hasattr(m, "initialize"):
                    m.initialize()

    def named_children(self) -> Iterator[tuple[str, Module]]:
        """The modules, named by their index: ``('0', first)``, ``('1', second)``, ..."""
        for i, m in enumerate(self.modules):
            yield str(i), m

    def _entries(self) -> Iterator[tuple[str, Module]]:
        # Module's hook for walking parameters: a Sequential holds nothing but its modules,
        # named by index ('0.neurons.1.w'), not by the attribute they sit in ('modules.0...').
        return self.named_children()

    def forward(self, x: Any) -> Any:
        """Feed ``x`` (one sample or a batch) through every module in turn."""
        for m in self.modules:
            x = m(x)
        return x

    def __getitem__(self, index: int | slice) -> Module:
        if isinstance(index, slice):
            return Sequential(self.modules[index])
        return self.modules[index]

    def __len__(self) -> int:
        return len(self.modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self.modules)
