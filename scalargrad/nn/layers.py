"""Layers: Neuron, Linear, Sequential, activations, Softmax, Dropout, Flatten, Conv2D, MaxPool2D.

Inputs are plain lists (of Scalars or floats); images are nested lists shaped
``[channels][height][width]``. A neuron's weighted sum plus bias is one
fused node (``functional.dot``), so it costs one multiply-add per input in
backward.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from typing import Any, Callable

from .. import functional as F
from .._util.checks import one_of
from ..extend import building_replay
from ..scalar import Scalar
from .module import Module

__all__ = [
    "ACTIVATIONS", "Conv2D", "Dropout", "Flatten", "Identity", "LeakyReLU", "Linear", "MaxPool2D",
    "Neuron", "ReLU", "Sequential", "Sigmoid", "Softmax", "Softplus", "Tanh",
]

# Activations by name; layers fuse the activation into the neuron's node (functional.linear).
ACTIVATIONS = F.ACTIVATIONS


def _positive_int(value, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{what} must be a positive int, got {value!r}")
    return value


def _check_inputs(x, size: int, who: str) -> None:
    if not isinstance(x, (list, tuple)):
        raise TypeError(f"{who} expects a list of {size} inputs, got {type(x).__name__}")
    if len(x) != size:
        raise ValueError(f"{who} expects {size} inputs, got {len(x)}")


def _uniform(bound: float) -> Scalar:
    return Scalar(random.uniform(-bound, bound))


# ---- Neuron and Linear --------------------------------------------------------

class Neuron(Module):
    """One unit: ``activation(w . x + b)``, computed as one fused dot node.

    >>> n = Neuron(size=3, activation='relu')
    >>> n.initialize(w=[0.1, 0.2, 0.3], b=0.1)
    >>> round(n([1.0, 1.0, 1.0]).data, 6)
    0.7
    """

    def __init__(self, size: int, activation: str = "identity", bias: bool = True) -> None:
        super().__init__()
        self.size = _positive_int(size, "Neuron size")
        self.activation = one_of(activation, "activation", F.ACTIVATIONS)
        self.w = [Scalar(0.0) for _ in range(size)]
        self.b = Scalar(0.0) if bias else None
        self.initialize()

    def initialize(self, w: Sequence[float] | None = None, b: float | None = None) -> None:
        """Set the weights and bias to the given values, or draw them like PyTorch.

        Random values are uniform in (-1/sqrt(size), 1/sqrt(size)). The
        Scalar objects are kept, so an optimizer holding them stays valid.
        """
        bound = 1.0 / math.sqrt(self.size)
        if w is None:
            for p in self.w:
                p.data = random.uniform(-bound, bound)
        else:
            w = [float(v.data if isinstance(v, Scalar) else v) for v in w]
            if len(w) != self.size:
                raise ValueError(f"Neuron of size {self.size} got {len(w)} weights")
            for p, v in zip(self.w, w):
                p.data = v
        if self.b is not None:
            if b is None:
                self.b.data = random.uniform(-bound, bound)
            else:
                self.b.data = float(b.data if isinstance(b, Scalar) else b)

    def forward(self, x: Sequence[Scalar | float]) -> Scalar:
        """``activation(dot(w, x) + b)``."""
        _check_inputs(x, self.size, f"Neuron of size {self.size}")
        return F.neuron(self.w, x, self.b, self.activation)

    def extra_repr(self) -> str:
        return f"size={self.size}, activation={self.activation!r}" + ("" if self.b is not None else ", bias=False")


class Linear(Module):
    """A fully connected layer: ``size_out`` neurons over ``size_in`` inputs.

    >>> layer = Linear(3, 2, activation='sigmoid')
    >>> len(layer([0.1, 0.2, 0.3])), layer.num_parameters()
    (2, 8)
    """

    listed_as_one_layer = True

    def __init__(self, size_in: int, size_out: int, activation: str = "identity", bias: bool = True) -> None:
        super().__init__()
        self.size_in = _positive_int(size_in, "Linear size_in")
        self.size_out = _positive_int(size_out, "Linear size_out")
        self.activation = one_of(activation, "activation", F.ACTIVATIONS)
        self.neurons = [Neuron(size_in, activation, bias) for _ in range(size_out)]

    def initialize(self, neurons: Sequence[Any] | None = None) -> None:
        """Re-draw all weights, or copy them from ``neurons``.

        ``neurons`` is a list of ``size_out`` items, each a Neuron, a dict
        ``{'w': [...], 'b': float}`` or a ``(w, b)`` pair.
        """
        if neurons is None:
            for n in self.neurons:
                n.initialize()
            return
        if len(neurons) != self.size_out:
            raise ValueError(f"Linear with {self.size_out} neurons got {len(neurons)} to initialize from")
        # Check every neuron's values on scratch copies first, so a bad entry changes nothing.
        pairs = []
        for i, src in enumerate(neurons):
            if isinstance(src, Neuron):
                w, b = src.w, src.b
            elif isinstance(src, dict):
                w, b = src["w"], src.get("b")
            else:
                w, b = src
            scratch = Neuron(self.size_in, bias=self.neurons[i].b is not None)
            try:
                scratch.initialize(w=w, b=b)
            except (TypeError, ValueError) as e:
                raise type(e)(f"neuron {i}: {e}") from None
            pairs.append((w, b))
        for n, (w, b) in zip(self.neurons, pairs):
            n.initialize(w=w, b=b)

    def forward(self, x: Sequence[Scalar | float]) -> list[Scalar]:
        """One output per neuron."""
        _check_inputs(x, self.size_in, f"Linear({self.size_in}, {self.size_out})")
        neurons = self.neurons
        biases = [n.b for n in neurons] if neurons[0].b is not None else None
        return F.linear([n.w for n in neurons], x, biases, self.activation)

    @property
    def output_size(self) -> int:
        """How many values the layer returns."""
        return self.size_out

    def weight(self) -> list[list[float]]:
        """The weights as a ``size_out x size_in`` list of floats (rows are neurons)."""
        return [[p.data for p in n.w] for n in self.neurons]

    def extra_repr(self) -> str:
        bias = "" if self.neurons[0].b is not None else ", bias=False"
        return f"size_in={self.size_in}, size_out={self.size_out}, activation={self.activation!r}{bias}"

    def __repr__(self) -> str:  # one line, as torch prints its Linear; the neurons are implied
        return f"Linear({self.extra_repr()})"




class Sequential(Module):
    """Modules applied one after another.

    >>> model = Sequential([Linear(2, 4, activation='relu'), Linear(4, 2)])
    >>> len(model), len(model([1.0, 0.0]))
    (2, 2)
    """

    def __init__(self, modules: Sequence[Module], do_initialize: bool = False) -> None:
        super().__init__()
        modules = list(modules)
        for i, m in enumerate(modules):
            if not isinstance(m, Module):
                raise TypeError(f"Sequential item {i} is a {type(m).__name__}, not a Module")
        self.modules = modules
        if do_initialize:
            for m in modules:
                if hasattr(m, "initialize"):
                    m.initialize()

    def named_children(self):
        for i, m in enumerate(self.modules):
            yield str(i), m

    def _entries(self):
        return self.named_children()

    def forward(self, x):
        """Feed ``x`` through every module in turn."""
        for m in self.modules:
            x = m(x)
        return x

    def __getitem__(self, index):
        if isinstance(index, slice):
            return Sequential(self.modules[index])
        return self.modules[index]

    def __len__(self) -> int:
        return len(self.modules)

    def __iter__(self):
        return iter(self.modules)




# ---- elementwise activations ---------------------------------------------------------

def _map(fn: Callable, x):
    """Apply ``fn`` to a value, or to every element of (nested) lists."""
    if isinstance(x, (list, tuple)):
        return [_map(fn, v) for v in x]
    return fn(x)


def _as_scalar(v) -> Scalar:
    return v if isinstance(v, Scalar) else Scalar(v)


class _Elementwise(Module):
    _fn: Callable = None

    def forward(self, x):
        """Apply the activation to a Scalar or to each element of (nested) lists."""
        fn = type(self)._fn
        return _map(lambda v: fn(_as_scalar(v)), x)



class ReLU(_Elementwise):
    """max(x, 0) elementwise."""

    _fn = Scalar.relu


class Sigmoid(_Elementwise):
    """1 / (1 + e**-x) elementwise."""

    _fn = Scalar.sigmoid


class Tanh(_Elementwise):
    """tanh(x) elementwise."""

    _fn = Scalar.tanh


class Softplus(_Elementwise):
    """log(1 + e**x) elementwise."""

    _fn = Scalar.softplus


class Identity(Module):
    """Returns its input unchanged."""

    def forward(self, x):
        """``x`` itself."""
        return x



class LeakyReLU(Module):
    """x for x > 0, ``negative_slope * x`` otherwise, elementwise."""

    def __init__(self, negative_slope: float = 0.01) -> None:
        super().__init__()
        self.negative_slope = float(negative_slope)

    def forward(self, x):
        """Apply leaky ReLU to a Scalar or to each element of (nested) lists."""
        slope = self.negative_slope
        return _map(lambda v: _as_scalar(v).leaky_relu(slope), x)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}"



class Softmax(Module):
    """Turns a list of logits into probabilities (stable for any magnitude).

    >>> probs = Softmax()([Scalar(1.0), Scalar(1.0)])
    >>> [p.data for p in probs]
    [0.5, 0.5]
    """

    def forward(self, logits: Sequence[Scalar]) -> list[Scalar]:
        """Probabilities, one per logit."""
        if not logits:
            raise ValueError("Softmax got an empty list of logits")
        return F.softmax([v if isinstance(v, Scalar) else Scalar(v) for v in logits])



# ---- regularisation and reshaping --------------------------------------------------

class Dropout(Module):
    """Zero each input with probability ``p`` in training mode, scaling the rest by 1/(1-p).

    In eval mode it returns its input unchanged. Random draws come from
    Python's ``random`` module, so ``random.seed`` makes them repeatable.
    """

    def __init__(self, p: float = 0.5) -> None:
        super().__init__()
        if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0.0 <= p <= 1.0:
            raise ValueError(f"Dropout probability must be between 0 and 1, got {p!r}")
        self.p = float(p)

    def forward(self, x):
        """Drop elements of a list (or nested lists) at random while training."""
        if not self.training or self.p == 0.0:
            return x
        if building_replay():
            raise ValueError("Dropout draws a new mask every step, but a Replay would keep the first one; "
                             "call model.eval() before building the Replay, or rebuild the graph each step")
        keep_scale = 0.0 if self.p == 1.0 else 1.0 / (1.0 - self.p)
        p, rand = self.p, random.random

        def drop(v):
            return v * (0.0 if rand() < p else keep_scale)

        return _map(drop, x)

    def extra_repr(self) -> str:
        return f"p={self.p}"



def _flatten_values(x, out: list) -> list:
    for v in x:
        if isinstance(v, (list, tuple)):
            _flatten_values(v, out)
        else:
            out.append(v)
    return out


class Flatten(Module):
    """Nested lists (e.g. ``[channels][height][width]``) to one flat list."""

    def forward(self, x):
        """The elements of ``x`` in row-major order."""
        return _flatten_values(x, [])



# ---- convolution and pooling -------------------------------------------------------------

def _pair(value, what: str) -> tuple[int, int]:
    if isinstance(value, (tuple, list)):
        if len(value) != 2:
            raise ValueError(f"{what} must be an int or a pair, got {value!r}")
        a, b = value
    else:
        a = b = value
    for v in (a, b):
        if isinstance(v, bool) or not isinstance(v, int) or v < 0:
            raise ValueError(f"{what} must be a non-negative int, got {value!r}")
    return a, b


def _image_shape(x, channels: int, who: str) -> tuple[int, int]:
    if not isinstance(x, (list, tuple)) or not x or not isinstance(x[0], (list, tuple)) \
            or not x[0] or not isinstance(x[0][0], (list, tuple)):
        raise ValueError(f"{who} expects nested lists shaped [channels][height][width]")
    if len(x) != channels:
        raise ValueError(f"{who} expects {channels} input channels, got {len(x)}")
    return len(x[0]), len(x[0][0])


class Conv2D(Module):
    """2-D convolution (cross-correlation, as in PyTorch) over ``[channels][height][width]`` lists.

    ``weight`` is nested ``[out_channels][in_channels][kh][kw]`` Scalars and
    ``bias`` a list of ``out_channels`` Scalars. Each output value is one
    fused dot node over its receptive field; zero padding adds no edges.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0,
                 bias: bool = True, activation: str = "identity") -> None:
        super().__init__()
        self.in_channels = _positive_int(in_channels, "Conv2D in_channels")
        self.out_channels = _positive_int(out_channels, "Conv2D out_channels")
        self.kernel_size = _pair(kernel_size, "kernel_size")
        self.stride = _pair(stride, "stride")
        self.padding = _pair(padding, "padding")
        if min(self.kernel_size) < 1 or min(self.stride) < 1:
            raise ValueError("kernel_size and stride must be at least 1")
        self.activation = one_of(activation, "activation", F.ACTIVATIONS)
        kh, kw = self.kernel_size
        self.weight = [[[[Scalar(0.0) for _ in range(kw)] for _ in range(kh)] for _ in range(in_channels)]
                       for _ in range(out_channels)]
        self.bias = [Scalar(0.0) for _ in range(out_channels)] if bias else None
        self._index_cache: dict = {}
        self.initialize()

    @property
    def fan_in(self) -> int:
        """Inputs feeding each output value: in_channels * kernel height * kernel width."""
        return self.in_channels * self.kernel_size[0] * self.kernel_size[1]

    def initialize(self) -> None:
        """Draw weights and biases uniform in (-1/sqrt(fan_in), 1/sqrt(fan_in)), as PyTorch does."""
        bound = 1.0 / math.sqrt(self.fan_in)
        for p in self._flat_weights():
            p.data = random.uniform(-bound, bound)
        for p in self.bias or ():
            p.data = random.uniform(-bound, bound)

    def _flat_weights(self) -> list[Scalar]:
        return [p for out in self.weight for ch in out for row in ch for p in row]

    def _receptive_fields(self, height: int, width: int):
        """For each output position, the (weight index, channel, row, col) pairs inside the image."""
        key = (height, width)
        if key not in self._index_cache:
            (kh, kw), (sh, sw), (ph, pw) = self.kernel_size, self.stride, self.padding
            out_h = (height + 2 * ph - kh) // sh + 1
            out_w = (width + 2 * pw - kw) // sw + 1
            if out_h < 1 or out_w < 1:
                raise ValueError(f"Conv2D kernel {self.kernel_size} is larger than the padded input "
                                 f"{height}x{width}")
            fields = []
            for i in range(out_h):
                row = []
                for j in range(out_w):
                    taps = []
                    for c in range(self.in_channels):
                        for a in range(kh):
                            r = i * sh - ph + a
                            if not 0 <= r < height:
                                continue
                            for b in range(kw):
                                col = j * sw - pw + b
                                if 0 <= col < width:
                                    taps.append(((c * kh + a) * kw + b, c, r, col))
                    row.append(taps)
                fields.append(row)
            self._index_cache[key] = fields
        return self._index_cache[key]

    def forward(self, x):
        """``[in_channels][H][W]`` -> ``[out_channels][H'][W']``."""
        height, width = _image_shape(x, self.in_channels, f"Conv2D({self.in_channels}, {self.out_channels})")
        fields = self._receptive_fields(height, width)
        flat = [[p for ch in out for row in ch for p in row] for out in self.weight]
        out = [[[None] * len(fields[0]) for _ in fields] for _ in range(self.out_channels)]
        # One fused layer per output position: its receptive field is read once for all channels.
        for i, field_row in enumerate(fields):
            for j, taps in enumerate(field_row):
                xs = [x[c][r][col] for _, c, r, col in taps]
                ws = [[w_o[t[0]] for t in taps] for w_o in flat]
                for o, y in enumerate(F.linear(ws, xs, self.bias, self.activation)):
                    out[o][i][j] = y
        return out

    def extra_repr(self) -> str:
        extra = "" if self.bias is not None else ", bias=False"
        if self.activation != "identity":
            extra += f", activation={self.activation!r}"
        return (f"in_channels={self.in_channels}, out_channels={self.out_channels}, "
                f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}{extra}")



class MaxPool2D(Module):
    """Max over ``kernel_size`` windows of ``[channels][height][width]`` lists.

    Each output is the input element holding the maximum (the first on ties,
    as in PyTorch), so the gradient flows to it unchanged and no node is added.
    While a ``Replay`` is built, each output is instead a node over its whole
    window that picks the maximum again at every replayed step.
    """

    def __init__(self, kernel_size, stride=None) -> None:
        super().__init__()
        self.kernel_size = _pair(kernel_size, "kernel_size")
        self.stride = _pair(stride, "stride") if stride is not None else self.kernel_size
        if min(self.kernel_size) < 1 or min(self.stride) < 1:
            raise ValueError("kernel_size and stride must be at least 1")

    def forward(self, x):
        """``[C][H][W]`` -> ``[C][H'][W']``."""
        pick = F.window_max if building_replay() else _largest
        (kh, kw), (sh, sw) = self.kernel_size, self.stride
        out = []
        for channel in x:
            height, width = len(channel), len(channel[0])
            if height < kh or width < kw:
                raise ValueError(f"MaxPool2D window {self.kernel_size} is larger than the input {height}x{width}")
            plane = []
            for i in range(0, height - kh + 1, sh):
                line = []
                for j in range(0, width - kw + 1, sw):
                    line.append(pick([channel[i + a][j + b] for a in range(kh) for b in range(kw)]))
                plane.append(line)
            out.append(plane)
        return out

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}"



def _largest(window: list):
    """The element of ``window`` holding its maximum (see ``functional.max_index``)."""
    return window[F.max_index([v.data if isinstance(v, Scalar) else v for v in window])]
