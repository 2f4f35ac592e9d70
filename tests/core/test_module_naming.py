"""Naming parameters as a model is built attribute by attribute: linear work, the same names as before."""

from __future__ import annotations

import pytest

import scalargrad.nn.module as module_file
from scalargrad import Scalar
from scalargrad.nn import Conv2D, Dropout, Linear, Module, Sequential


class Stack(Module):
    """``n`` layers, each set as its own attribute (the pattern that used to re-walk the whole model)."""

    def __init__(self, n: int, size: int = 3) -> None:
        super().__init__()
        for i in range(n):
            setattr(self, f"layer{i}", Linear(size, size))

    def forward(self, x):
        return x


def _visits(monkeypatch, build) -> tuple[int, Module]:
    """How many parameters the naming walk meets while ``build()`` runs, and the model it built."""
    count = [0]
    walk = module_file.named_leaves

    def counting(value, prefix=""):
        for item in walk(value, prefix):
            count[0] += 1
            yield item

    monkeypatch.setattr(module_file, "named_leaves", counting)
    model = build()
    monkeypatch.undo()
    return count[0], model


@pytest.mark.parametrize("n", [10, 40])
def test_building_attribute_by_attribute_is_linear(monkeypatch, n):
    visits, model = _visits(monkeypatch, lambda: Stack(n))
    params = model.num_parameters()
    # each parameter is met when its neuron names it, when the Linear adopts the neuron and
    # when the model adopts the Linear: three times, whatever n is (the full re-walk met
    # every earlier layer's parameters again at each new attribute: about params * n / 2)
    assert visits <= 3 * params


def test_names_are_paths_and_order_is_stable():
    model = Stack(5)
    names = [(name, p.name) for name, p in model.named_parameters()]
    assert all(name == given for name, given in names)
    assert names[0][0] == "layer0.neurons.0.w.0" and names[-1][0] == "layer4.neurons.2.b"
    assert model.parameters() == [p for layer in range(5) for n in getattr(model, f"layer{layer}").neurons
                                  for p in (*n.w, n.b)]


class _Sub(Module):
    def __init__(self, p=None):
        super().__init__()
        self.w = p if p is not None else Scalar(1.0)
        self.lin = Linear(2, 2)

    def forward(self, x):
        return x


class _Top(Module):
    def __init__(self):
        super().__init__()
        shared = Scalar(3.0)
        self.w = shared
        self.a = _Sub(shared)  # shared with an earlier attribute: keeps the name 'w'
        self.blocks = [_Sub(), Linear(2, 1)]
        self.seq = Sequential([Linear(2, 3), Dropout(0.1), Sequential([Linear(3, 1)])])
        self.conv = Conv2D(1, 2, 2)
        self.again = self.seq[0].neurons[0].w  # the same list under a second attribute
        own = Scalar(5.0, name="mine")
        self.q = own  # a name the user gave is kept
        self.sub2 = _Sub(own)

    def forward(self, x):
        return x


def test_names_with_shared_and_user_named_parameters():
    model = Sequential([_Top(), Linear(1, 1)])
    named = {name: p.name for name, p in model.named_parameters()}
    assert named.pop("0.q") == "mine"
    assert all(name == given for name, given in named.items())
    top = model[0]
    assert top.a.w.name == "0.w" and top.sub2.lin.neurons[0].b.name == "0.sub2.lin.neurons.0.b"
    assert top.again[0].name == "0.seq.0.neurons.0.w.0"
