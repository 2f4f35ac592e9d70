"""Moving models to and from PyTorch (float64), for users who outgrow a scalar engine.

All torch knowledge of the package is here, in two tables: ``TO_TORCH``
(our layer type -> converter) and ``from_torch_table()`` (torch module type
-> our layer type and converter). ``Module.to_torch()`` and
``Module.from_torch()`` reach them through lazy imports, and torch itself is
imported only when a conversion is asked for.
"""

from __future__ import annotations

import functools
from typing import Any

from .layers import (
    Conv2D,
    Dropout,
    Flatten,
    Identity,
    LeakyReLU,
    Linear,
    MaxPool2D,
    ReLU,
    Sequential,
    Sigmoid,
    Softmax,
    Softplus,
    Tanh,
)
from .module import Module

__all__ = ["TO_TORCH", "conv_from_torch", "conv_to_torch", "flatten_from_torch", "from_torch",
           "from_torch_table", "linear_from_torch", "linear_to_torch", "maxpool_from_torch",
           "sequential_from_torch", "sequential_to_torch", "softmax_from_torch", "softplus_from_torch",
           "to_torch"]


def _torch():
    try:
        import torch
    except ImportError:
        raise ImportError("converting to or from PyTorch needs torch: pip install torch") from None
    return torch


def _tensor(values):
    torch = _torch()
    return torch.tensor(values, dtype=torch.float64)


# Activation name (as layers take it) -> torch module class name.
_TORCH_ACTIVATIONS = {"relu": "ReLU", "sigmoid": "Sigmoid", "tanh": "Tanh", "leaky_relu": "LeakyReLU",
                      "softplus": "Softplus"}


def _torch_activation(name: str):
    nn = _torch().nn
    return getattr(nn, _TORCH_ACTIVATIONS[name])()


# ---- to torch ------------------------------------------------------------------------------

def to_torch(module: Module) -> Any:
    """An equivalent ``torch.nn.Module`` in float64, by the converter ``TO_TORCH`` lists for its type.

    A subclass of a built-in layer converts as that layer; a module with no
    converter raises NotImplementedError (before torch is imported).
    """
    for kind in type(module).__mro__:
        if kind in TO_TORCH:
            return TO_TORCH[kind](module)
    raise NotImplementedError(f"{type(module).__name__} has no PyTorch equivalent; implement to_torch()")


def linear_to_torch(layer: Linear) -> Any:
    """``torch.nn.Linear`` (followed by its activation, in a Sequential, when there is one)."""
    torch = _torch()
    bias = layer.neurons[0].b is not None
    lin = torch.nn.Linear(layer.size_in, layer.size_out, bias=bias, dtype=torch.float64)
    with torch.no_grad():
        lin.weight.copy_(_tensor(layer.weight()))
        if bias:
            lin.bias.copy_(_tensor([n.b.data for n in layer.neurons]))
    if layer.activation == "identity":
        return lin
    return torch.nn.Sequential(lin, _torch_activation(layer.activation))


def conv_to_torch(module: Conv2D) -> Any:
    """``torch.nn.Conv2d`` (plus activation) with the same weights."""
    torch = _torch()
    conv = torch.nn.Conv2d(module.in_channels, module.out_channels, module.kernel_size, module.stride,
                           module.padding, bias=module.bias is not None, dtype=torch.float64)
    with torch.no_grad():
        conv.weight.copy_(_tensor(module.state_dict()["weight"]))
        if module.bias is not None:
            conv.bias.copy_(_tensor([b.data for b in module.bias]))
    if module.activation == "identity":
        return conv
    return torch.nn.Sequential(conv, _torch_activation(module.activation))


def sequential_to_torch(seq: Sequential) -> Any:
    """A flat ``torch.nn.Sequential`` computing the same function in float64."""
    torch = _torch()
    layers = []
    for m in seq.modules:
        t = m.to_torch()  # the method, so a user's module with its own to_torch() converts too
        if isinstance(t, torch.nn.Sequential):
            layers.extend(t)
        else:
            layers.append(t)
    result = torch.nn.Sequential(*layers)
    result.training = seq.training
    return result


def _same_named(torch_name: str):
    """A converter to the torch module of that name, built with no arguments."""
    return lambda module: getattr(_torch().nn, torch_name)()


# Our layer type -> the function building its torch equivalent: the one place to add a layer.
TO_TORCH = {
    Linear: linear_to_torch,
    Conv2D: conv_to_torch,
    Sequential: sequential_to_torch,
    MaxPool2D: lambda module: _torch().nn.MaxPool2d(module.kernel_size, module.stride),
    # Our inputs are single samples without a batch axis, so Flatten starts at dim 0.
    Flatten: lambda module: _torch().nn.Flatten(start_dim=0),
    Dropout: lambda module: _torch().nn.Dropout(module.p).train(module.training),
    ReLU: _same_named("ReLU"),
    Sigmoid: _same_named("Sigmoid"),
    Tanh: _same_named("Tanh"),
    Softplus: _same_named("Softplus"),
    Identity: _same_named("Identity"),
    LeakyReLU: lambda module: _torch().nn.LeakyReLU(module.negative_slope),
    Softmax: lambda module: _torch().nn.Softmax(dim=-1),
}


# ---- from torch ----------------------------------------------------------------------------

def from_torch(cls: type, torch_module: Any, activation: str | None = None) -> Module:
    """``cls``'s equivalent of ``torch_module``, by the converter ``from_torch_table()`` lists for its type.

    ``activation`` (Linear and Conv2D only) is applied after the layer. Called
    on ``Module`` itself any listed torch module is read; called on a layer
    class, ``torch_module`` must be of the torch type(s) that layer reads.
    A setting our layer cannot represent (Conv2d dilation or groups,
    Softplus beta, Flatten or Softmax dims, MaxPool2d ceil_mode, a subclass
    with its own forward, ...) raises ValueError naming it: the model read
    always computes what the torch one computes.
    """
    table = from_torch_table()
    wanted = tuple(kind for kind, (ours, _) in table.items() if issubclass(cls, ours))
    if wanted and not isinstance(torch_module, wanted):
        names = " or ".join(f"torch.nn.{kind.__name__}" for kind in wanted)
        raise TypeError(f"expected a {names}, got {type(torch_module).__name__}")
    if not wanted and cls is not Module:
        raise NotImplementedError(f"{cls.__name__} has no PyTorch equivalent to read")
    ours, convert = _reader(table, torch_module)
    if activation is not None and ours not in (Linear, Conv2D):
        raise TypeError(f"{cls.__name__}.from_torch takes no activation")
    return convert(cls if issubclass(cls, ours) else ours, torch_module, activation or "identity")


def _reader(table: dict, torch_module: Any) -> tuple:
    """The (our type, converter) entry for ``torch_module``'s type or its nearest listed base class.

    A subclass that computes something else (its own ``forward``) is refused
    rather than read as its base.
    """
    for kind in type(torch_module).__mro__:
        if kind in table:
            if type(torch_module).forward is not kind.forward:
                raise ValueError(f"cannot read {type(torch_module).__name__}: it overrides forward() of "
                                 f"torch.nn.{kind.__name__}, so it may compute something else")
            return table[kind]
    raise ValueError(f"cannot convert torch module {type(torch_module).__name__} to scalargrad")


def _refuse(m: Any, setting: str, supported: str) -> ValueError:
    """The error for a torch setting our layer cannot represent, naming the setting and its value."""
    value = getattr(m, setting)
    return ValueError(f"cannot read torch.nn.{type(m).__name__} with {setting}={value!r}: scalargrad's layer "
                      f"supports only {supported}, and ignoring it would compute a different function")


def _pair_of(value: Any) -> tuple:
    return tuple(value) if isinstance(value, (tuple, list)) else (value, value)


def linear_from_torch(cls: type, torch_linear: Any, activation: str = "identity") -> Linear:
    """A Linear (or subclass ``cls``) with the weights (and bias, or none) of ``torch_linear``."""
    torch = _torch()
    if not isinstance(torch_linear, torch.nn.Linear):
        raise TypeError(f"expected a torch.nn.Linear, got {type(torch_linear).__name__}")
    has_bias = torch_linear.bias is not None
    layer = cls(torch_linear.in_features, torch_linear.out_features, activation=activation, bias=has_bias)
    weight = torch_linear.weight.detach().double().tolist()
    bias = torch_linear.bias.detach().double().tolist() if has_bias else [None] * len(weight)
    layer.initialize([(w, b) for w, b in zip(weight, bias)])
    return layer


def _conv_padding(m: Any) -> tuple[int, int]:
    """Our (top/bottom, left/right) padding for ``m``'s ``padding`` (numbers, 'valid', or an even 'same')."""
    if m.padding == "valid":
        return 0, 0
    if m.padding == "same":  # total padding kernel - 1 per axis (dilation is 1 here), split evenly or refused
        total = [k - 1 for k in _pair_of(m.kernel_size)]
        if any(t % 2 for t in total):
            raise _refuse(m, "padding", "symmetric padding ('same' with an even kernel pads one side more)")
        return total[0] // 2, total[1] // 2
    return _pair_of(m.padding)


def conv_from_torch(cls: type, m: Any, activation: str = "identity") -> Conv2D:
    """A Conv2D (or subclass ``cls``) with the weights of a ``torch.nn.Conv2d``.

    Read exactly: groups=1, dilation=1, padding by number, ``'valid'`` or a
    symmetric ``'same'``, and any padding_mode when there is no padding;
    any other setting raises ValueError naming it.
    """
    if m.groups != 1:
        raise _refuse(m, "groups", "groups=1")
    if _pair_of(m.dilation) != (1, 1):
        raise _refuse(m, "dilation", "dilation=1")
    padding = _conv_padding(m)
    if m.padding_mode != "zeros" and padding != (0, 0):
        raise _refuse(m, "padding_mode", "padding_mode='zeros' (or no padding)")
    conv = cls(m.in_channels, m.out_channels, m.kernel_size, m.stride, padding,
               bias=m.bias is not None, activation=activation)
    state = {"weight": m.weight.detach().double().tolist()}
    if m.bias is not None:
        state["bias"] = m.bias.detach().double().tolist()
    conv.load_state_dict(state)
    return conv


def maxpool_from_torch(cls: type, m: Any, activation: str = "identity") -> MaxPool2D:
    """A MaxPool2D with the window and stride of a ``torch.nn.MaxPool2d`` (no padding, dilation,
    ceil_mode)."""
    if _pair_of(m.padding) != (0, 0):
        raise _refuse(m, "padding", "padding=0 (MaxPool2d padding=0)")
    if _pair_of(m.dilation) != (1, 1):
        raise _refuse(m, "dilation", "dilation=1 (MaxPool2d dilation=1)")
    if m.ceil_mode:
        raise _refuse(m, "ceil_mode", "ceil_mode=False (MaxPool2d ceil_mode=False)")
    if m.return_indices:
        raise _refuse(m, "return_indices", "return_indices=False (MaxPool2d returns values only)")
    return cls(m.kernel_size, m.stride)


def flatten_from_torch(cls: type, m: Any, activation: str = "identity") -> Flatten:
    """Our Flatten (every axis of one sample) for ``torch.nn.Flatten`` from dim 1 of a batch or dim 0 of one
    sample.

    start_dim=1 is torch's default, on batches; start_dim=0 is what
    ``to_torch`` writes, on single samples. Both flatten a whole sample, up
    to end_dim=-1; other dims would keep some axes and are refused.
    """
    if m.start_dim not in (0, 1):
        raise _refuse(m, "start_dim", "start_dim=1 (a batch) or 0 (one sample)")
    if m.end_dim != -1:
        raise _refuse(m, "end_dim", "end_dim=-1")
    return cls()


def softmax_from_torch(cls: type, m: Any, activation: str = "identity") -> Softmax:
    """Our Softmax for a ``torch.nn.Softmax`` over the class axis (dim -1, 1 of a batch, or None)."""
    if m.dim not in (None, -1, 1):
        raise _refuse(m, "dim", "dim=-1 (the class axis; dim=1 of a batch)")
    return cls()


def softplus_from_torch(cls: type, m: Any, activation: str = "identity") -> Softplus:
    """Our Softplus for a ``torch.nn.Softplus`` with the default beta=1 and threshold=20."""
    if m.beta != 1:
        raise _refuse(m, "beta", "beta=1")
    if m.threshold != 20:
        raise _refuse(m, "threshold", "threshold=20")
    return cls()


def _folded_activation(module: Module) -> str | None:
    """The activation name a Linear or Conv2D can take in place of ``module``, or None."""
    if type(module) in (ReLU, Sigmoid, Tanh, Softplus):
        return type(module).__name__.lower()
    if type(module) is LeakyReLU and module.negative_slope == 0.01:  # the slope the fused activation uses
        return "leaky_relu"
    return None


def sequential_from_torch(cls: type, torch_sequential: Any, activation: str = "identity") -> Sequential:
    """Read Linear/Conv2d layers (folding a following activation in), pooling, Flatten, Dropout.

    Every module is read by its own reader, which refuses settings it cannot
    represent, before an activation is folded into the layer before it; a
    nested ``torch.nn.Sequential`` becomes a nested Sequential.
    """
    table = from_torch_table()
    items = list(torch_sequential)
    read = [_convert(table, m, "identity") for m in items]  # every module checked by its own reader
    modules = []
    i = 0
    while i < len(items):
        ours = read[i]
        fold = _folded_activation(read[i + 1]) \
            if i + 1 < len(items) and type(ours) in (Linear, Conv2D) else None
        if fold is not None:
            ours = _convert(table, items[i], fold)
        modules.append(ours)
        i += 2 if fold is not None else 1
    result = Sequential(modules)
    result.training = torch_sequential.training
    return result


def _convert(table: dict, m: Any, activation: str) -> Module:
    """``m`` read by its converter in ``table``, with ``activation`` fused in (Linear and Conv2d take one)."""
    ours, convert = _reader(table, m)
    return convert(ours, m, activation)


def _no_arguments(cls, m, activation: str = "identity") -> Module:
    return cls()


@functools.cache
def from_torch_table() -> dict:
    """Torch module type -> (our layer type, converter ``(our_type, torch_module, activation)``).

    Built on first use, as it needs torch's classes; the one place to add a layer.
    """
    nn = _torch().nn
    return {
        nn.Sequential: (Sequential, sequential_from_torch),
        nn.Linear: (Linear, linear_from_torch),
        nn.Conv2d: (Conv2D, conv_from_torch),
        nn.MaxPool2d: (MaxPool2D, maxpool_from_torch),
        nn.Flatten: (Flatten, flatten_from_torch),
        nn.Dropout: (Dropout, lambda cls, m, activation: cls(m.p).train(m.training)),
        nn.ReLU: (ReLU, _no_arguments),
        nn.Sigmoid: (Sigmoid, _no_arguments),
        nn.Tanh: (Tanh, _no_arguments),
        nn.Softplus: (Softplus, softplus_from_torch),
        nn.Identity: (Identity, _no_arguments),
        nn.LeakyReLU: (LeakyReLU, lambda cls, m, activation: cls(m.negative_slope)),
        nn.Softmax: (Softmax, softmax_from_torch),
    }
