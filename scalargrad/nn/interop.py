"""Moving models to and from PyTorch (float64), for users who outgrow a scalar engine.

torch is imported only here, only when a conversion is asked for.
"""

from __future__ import annotations

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


def _torch():
    try:
        import torch
    except ImportError:
        raise ImportError("converting to or from PyTorch needs torch: pip install torch") from None
    return torch


def _tensor(values):
    torch = _torch()
    return torch.tensor(values, dtype=torch.float64)


# Activation name <-> torch module class name.
_TORCH_ACTIVATIONS = {"relu": "ReLU", "sigmoid": "Sigmoid", "tanh": "Tanh", "leaky_relu": "LeakyReLU",
                      "softplus": "Softplus"}
_OUR_ACTIVATIONS = {ReLU: "ReLU", Sigmoid: "Sigmoid", Tanh: "Tanh", Softplus: "Softplus", Identity: "Identity"}


def _torch_activation(name: str):
    nn = _torch().nn
    return getattr(nn, _TORCH_ACTIVATIONS[name])()


def linear_to_torch(layer: Linear):
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


def linear_from_torch(cls, torch_linear, activation: str = "identity") -> Linear:
    """A Linear with the weights (and bias) of ``torch_linear``."""
    torch = _torch()
    if not isinstance(torch_linear, torch.nn.Linear):
        raise TypeError(f"expected a torch.nn.Linear, got {type(torch_linear).__name__}")
    has_bias = torch_linear.bias is not None
    layer = cls(torch_linear.in_features, torch_linear.out_features, activation=activation, bias=has_bias)
    weight = torch_linear.weight.detach().double().tolist()
    bias = torch_linear.bias.detach().double().tolist() if has_bias else [None] * len(weight)
    layer.initialize([(w, b) for w, b in zip(weight, bias)])
    return layer


def activation_to_torch(module):
    """The torch module for one of our activation modules."""
    nn = _torch().nn
    if isinstance(module, LeakyReLU):
        return nn.LeakyReLU(module.negative_slope)
    if isinstance(module, Softmax):
        return nn.Softmax(dim=-1)
    return getattr(nn, _OUR_ACTIVATIONS[type(module)])()


def dropout_to_torch(module: Dropout):
    """``torch.nn.Dropout`` with the same probability and the same train/eval mode."""
    return _torch().nn.Dropout(module.p).train(module.training)


def flatten_to_torch(module: Flatten):
    """``torch.nn.Flatten(start_dim=0)``: our inputs are single samples without a batch axis."""
    return _torch().nn.Flatten(start_dim=0)


def conv_to_torch(module: Conv2D):
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


def maxpool_to_torch(module: MaxPool2D):
    """``torch.nn.MaxPool2d`` with the same window and stride."""
    return _torch().nn.MaxPool2d(module.kernel_size, module.stride)


def sequential_to_torch(seq: Sequential):
    """A flat ``torch.nn.Sequential`` computing the same function in float64."""
    torch = _torch()
    layers = []
    for m in seq.modules:
        t = m.to_torch()
        if isinstance(t, torch.nn.Sequential):
            layers.extend(t)
        else:
            layers.append(t)
    result = torch.nn.Sequential(*layers)
    result.training = seq.training
    return result


def sequential_from_torch(torch_sequential) -> Sequential:
    """Read Linear/Conv2d layers (folding a following activation in), pooling, Flatten, Dropout."""
    torch = _torch()
    nn = torch.nn
    activation_names = {getattr(nn, v): k for k, v in _TORCH_ACTIVATIONS.items()}
    modules = []
    items = list(torch_sequential)
    i = 0
    while i < len(items):
        m = items[i]
        nxt = items[i + 1] if i + 1 < len(items) else None
        fold = type(nxt) in activation_names and not (
            isinstance(nxt, nn.LeakyReLU) and nxt.negative_slope != 0.01)
        activation = activation_names[type(nxt)] if fold else "identity"
        if isinstance(m, nn.Linear):
            modules.append(linear_from_torch(Linear, m, activation))
            i += 2 if fold else 1
            continue
        if isinstance(m, nn.Conv2d):
            modules.append(_conv_from_torch(m, activation))
            i += 2 if fold else 1
            continue
        modules.append(_module_from_torch(m))
        i += 1
    result = Sequential(modules)
    result.training = torch_sequential.training
    return result


def _conv_from_torch(m, activation: str) -> Conv2D:
    if m.groups != 1 or m.dilation != (1, 1) or isinstance(m.padding, str) or m.padding_mode != "zeros":
        raise ValueError("only plain Conv2d layers (groups=1, dilation=1, zero padding by number) can be read")
    conv = Conv2D(m.in_channels, m.out_channels, m.kernel_size, m.stride, m.padding,
                  bias=m.bias is not None, activation=activation)
    state = {"weight": m.weight.detach().double().tolist()}
    if m.bias is not None:
        state["bias"] = m.bias.detach().double().tolist()
    conv.load_state_dict(state)
    return conv


def _module_from_torch(m):
    nn = _torch().nn
    simple = {nn.ReLU: ReLU, nn.Sigmoid: Sigmoid, nn.Tanh: Tanh, nn.Softplus: Softplus, nn.Identity: Identity}
    if type(m) in simple:
        return simple[type(m)]()
    if isinstance(m, nn.LeakyReLU):
        return LeakyReLU(m.negative_slope)
    if isinstance(m, nn.Softmax):
        return Softmax()
    if isinstance(m, nn.Dropout):
        return Dropout(m.p).train(m.training)
    if isinstance(m, nn.Flatten):
        return Flatten()
    if isinstance(m, nn.MaxPool2d):
        if m.padding not in (0, (0, 0)) or m.dilation not in (1, (1, 1)) or m.ceil_mode or m.return_indices:
            raise ValueError("only plain MaxPool2d layers (padding=0, dilation=1, ceil_mode=False) "
                             "can be read")
        return MaxPool2D(m.kernel_size, m.stride)
    raise ValueError(f"cannot convert torch module {type(m).__name__} to scalargrad")
