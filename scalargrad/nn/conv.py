"""Conv2D and MaxPool2D over images given as nested lists ``[channels][height][width]`` (or a batch: a list of
them)."""

from __future__ import annotations

import math
import random
from typing import Any

from .. import functional as F
from .._util.checks import is_integer, one_of
from .._util.nested import is_regular, leaves, shape, to_lists
from ..extend import building_replay
from ..scalar import Scalar
from .module import Module
from .sizes import positive_size

__all__ = ["Conv2D", "MaxPool2D"]


def _pair(value: Any, what: str) -> tuple[int, int]:
    # Not _util.checks: a wrong type (2.0) is a ValueError here, as the tests pin.
    if isinstance(value, (tuple, list)):
        if len(value) != 2:
            raise ValueError(f"{what} must be an int or a pair, got {value!r}")
        a, b = value
    else:
        a = b = value
    for v in (a, b):
        if not is_integer(v) or v < 0:  # numpy ints are ints; a bool is not
            raise ValueError(f"{what} must be a non-negative int, got {value!r}")
    return int(a), int(b)


def _image(x: Any, channels: int | None, who: str) -> tuple[Any, int, int]:
    """``(x, height, width)`` (numpy arrays in it as lists) after checking it is a full
    ``[channels][height][width]`` block.

    Every row is checked, not only the first: a ragged image would otherwise
    be cut to its first row's width without a word.
    """
    x = to_lists(x)
    if not isinstance(x, (list, tuple)) or not x or not isinstance(x[0], (list, tuple)) \
            or not x[0] or not isinstance(x[0][0], (list, tuple)) or not x[0][0]:
        raise ValueError(f"{who} expects nested lists shaped [channels][height][width], "
                         f"got {_describe(x)}")
    depth = len(shape(x))
    if depth > 3:  # (a batch is split into images by Module.__call__ before it gets here)
        raise ValueError(f"{who} expects one image shaped [channels][height][width], got lists nested "
                         f"{depth} deep")
    if channels is not None and len(x) != channels:
        raise ValueError(f"{who} expects {channels} input channels, got {len(x)}")
    dims = (len(x), len(x[0]), len(x[0][0]))
    if not is_regular(x, dims):
        raise ValueError(f"{who} got a ragged image: every channel must have {dims[1]} rows of {dims[2]} "
                         f"values (the first row's size), and the values must not be lists")
    return x, dims[1], dims[2]


def _describe(x: Any) -> str:
    """A short description of what was given instead of an image."""
    if not isinstance(x, (list, tuple)):
        return f"a {type(x).__name__}"
    depth, v = 0, x
    while isinstance(v, (list, tuple)) and v:
        depth, v = depth + 1, v[0]
    return "an empty list" if not x else f"lists nested {depth} deep"


class Conv2D(Module):
    """2-D convolution (cross-correlation, as in PyTorch) over ``[channels][height][width]`` lists.

    ``weight`` is nested ``[out_channels][in_channels][kh][kw]`` Scalars and
    ``bias`` a list of ``out_channels`` Scalars. Each output value is one
    fused dot node over its receptive field; zero padding adds no edges.
    Called on a batch (a list of images) it returns the list of their outputs.
    """

    sample_depth = 3

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int | tuple[int, int],
                 stride: int | tuple[int, int] = 1, padding: int | tuple[int, int] = 0,
                 bias: bool = True, activation: str = "identity") -> None:
        super().__init__()
        self.in_channels = positive_size(in_channels, "Conv2D in_channels")
        self.out_channels = positive_size(out_channels, "Conv2D out_channels")
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
        for p in leaves(self.weight):
            p.data = random.uniform(-bound, bound)
        for p in self.bias or ():
            p.data = random.uniform(-bound, bound)

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

    def forward(self, x: Any) -> list:
        """``[in_channels][H][W]`` -> ``[out_channels][H'][W']``."""
        x, height, width = _image(x, self.in_channels, f"Conv2D({self.in_channels}, {self.out_channels})")
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

    def expected_input(self) -> str:
        """What the layer takes, for error messages: ``"Conv2D(1, 8) expects an image [1][height][width] or a
        batch of them (a list of images)"``."""
        return (f"Conv2D({self.in_channels}, {self.out_channels}) expects an image "
                f"[{self.in_channels}][height][width] or a batch of them (a list of images)")

    def extra_repr(self) -> str:
        """Channels, kernel size, stride, padding, and bias or activation when not the default."""
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
    window that picks the maximum again at every replayed step. Called on a
    batch (a list of images) it returns the list of their outputs.
    """

    sample_depth = 3

    def __init__(self, kernel_size: int | tuple[int, int],
                 stride: int | tuple[int, int] | None = None) -> None:
        super().__init__()
        self.kernel_size = _pair(kernel_size, "kernel_size")
        self.stride = _pair(stride, "stride") if stride is not None else self.kernel_size
        if min(self.kernel_size) < 1 or min(self.stride) < 1:
            raise ValueError("kernel_size and stride must be at least 1")

    def forward(self, x: Any) -> list:
        """``[C][H][W]`` -> ``[C][H'][W']``."""
        x, height, width = _image(x, None, f"MaxPool2D({self.kernel_size})")
        pick = F.window_max if building_replay() else _largest
        (kh, kw), (sh, sw) = self.kernel_size, self.stride
        out = []
        for channel in x:
            if height < kh or width < kw:
                raise ValueError(f"MaxPool2D window {self.kernel_size} is larger than the input "
                                 f"{height}x{width}")
            plane = []
            for i in range(0, height - kh + 1, sh):
                line = []
                for j in range(0, width - kw + 1, sw):
                    line.append(pick([channel[i + a][j + b] for a in range(kh) for b in range(kw)]))
                plane.append(line)
            out.append(plane)
        return out

    def expected_input(self) -> str:
        """What the layer takes, for error messages: ``"MaxPool2D((2, 2)) expects an image
        [channels][height][width] or a batch of them"``."""
        return (f"MaxPool2D({self.kernel_size}) expects an image [channels][height][width] or a batch of "
                f"them (a list of images)")

    def extra_repr(self) -> str:
        """``kernel_size=..., stride=...``."""
        return f"kernel_size={self.kernel_size}, stride={self.stride}"


def _largest(window: list) -> Any:
    """The element of ``window`` holding its maximum (see ``functional.max_index``)."""
    return window[F.max_index([v.data if isinstance(v, Scalar) else v for v in window])]
