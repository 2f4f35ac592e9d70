"""Sequential.from_torch reads every torch setting exactly, or refuses with a ValueError naming it.

Each case is a torch model with one setting away from the default: either
our model computes what torch (float64) computes, or reading it raises a
ValueError whose message names the setting.
"""

from __future__ import annotations

import random

import pytest
import torch

from scalargrad.nn import Sequential

tn = torch.nn
pytestmark = pytest.mark.filterwarnings("ignore:Implicit dimension choice for softmax")


class _DoubledReLU(tn.ReLU):
    def forward(self, x):
        return 2.0 * super().forward(x)


class _PlainReLU(tn.ReLU):  # a subclass computing the same function
    pass


def _vector(n: int, seed: int = 0) -> list[float]:
    rng = random.Random(seed)
    return [rng.uniform(-3.0, 3.0) for _ in range(n)]


def _image(c: int, h: int, w: int, seed: int = 0) -> list:
    rng = random.Random(seed)
    return [[[rng.uniform(-2.0, 2.0) for _ in range(w)] for _ in range(h)] for _ in range(c)]


def _flat(values) -> list[float]:
    if isinstance(values, (list, tuple)):
        return [v for item in values for v in _flat(item)]
    return [values.data if hasattr(values, "data") else values]


# (id, torch model, one input sample, run torch on a batch of one?)
CONVERTED = [
    ("linear_no_bias", lambda: tn.Sequential(tn.Linear(4, 3, bias=False), tn.ReLU()), _vector(4), True),
    ("leaky_relu_slope", lambda: tn.Sequential(tn.Linear(4, 3), tn.LeakyReLU(0.3)), _vector(4), True),
    ("leaky_relu_default_folded", lambda: tn.Sequential(tn.Linear(4, 3), tn.LeakyReLU()), _vector(4), True),
    ("softplus_default", lambda: tn.Sequential(tn.Linear(4, 3), tn.Softplus()), _vector(4), True),
    ("plain_subclass", lambda: tn.Sequential(tn.Linear(4, 3), _PlainReLU()), _vector(4), True),
    ("nested_sequential", lambda: tn.Sequential(tn.Sequential(tn.Linear(4, 3), tn.Tanh()), tn.Linear(3, 2)),
     _vector(4), True),
    ("softmax_dim_1_batch", lambda: tn.Sequential(tn.Linear(4, 3), tn.Softmax(dim=1)), _vector(4), True),
    ("softmax_dim_none", lambda: tn.Sequential(tn.Linear(4, 3), tn.Softmax()), _vector(4), True),
    ("softmax_dim_last", lambda: tn.Sequential(tn.Linear(4, 3), tn.Softmax(dim=-1)), _vector(4), False),
    ("flatten_batch", lambda: tn.Sequential(tn.Conv2d(1, 2, 2), tn.Flatten(), tn.Linear(8, 2)),
     _image(1, 3, 3), True),
    ("flatten_sample", lambda: tn.Sequential(tn.Conv2d(1, 2, 2), tn.Flatten(start_dim=0), tn.Linear(8, 2)),
     _image(1, 3, 3), False),
    ("conv_padding_valid", lambda: tn.Sequential(tn.Conv2d(2, 2, 3, padding="valid")), _image(2, 4, 5), True),
    ("conv_padding_same_odd", lambda: tn.Sequential(tn.Conv2d(2, 2, (3, 5), padding="same")),
     _image(2, 4, 5), True),
    ("conv_reflect_without_padding", lambda: tn.Sequential(tn.Conv2d(2, 2, 3, padding_mode="reflect")),
     _image(2, 4, 5), True),
    ("conv_stride_padding",
     lambda: tn.Sequential(tn.Conv2d(2, 3, 2, stride=(2, 1), padding=(1, 0)), tn.ReLU()), _image(2, 4, 5),
     True),
    ("maxpool_stride", lambda: tn.Sequential(tn.MaxPool2d((2, 3), stride=1)), _image(2, 4, 5), True),
]


@pytest.mark.parametrize("make, x, batched", [c[1:] for c in CONVERTED], ids=[c[0] for c in CONVERTED])
def test_read_exactly(make, x, batched):
    torch.manual_seed(0)
    tm = make().double().eval()
    model = Sequential.from_torch(tm)
    t = torch.tensor(x, dtype=torch.float64)
    with torch.no_grad():
        expected = (tm(t[None])[0] if batched else tm(t)).flatten().tolist()
    assert _flat(model(x)) == pytest.approx(expected, abs=1e-12)


REFUSED = [
    ("softplus_beta", lambda: tn.Sequential(tn.Softplus(beta=2)), "beta=2"),
    ("softplus_beta_after_linear", lambda: tn.Sequential(tn.Linear(2, 2), tn.Softplus(beta=2)), "beta=2"),
    ("softplus_threshold", lambda: tn.Sequential(tn.Linear(2, 2), tn.Softplus(threshold=5)), "threshold=5"),
    ("flatten_start_dim", lambda: tn.Sequential(tn.Flatten(start_dim=2)), "start_dim=2"),
    ("flatten_end_dim", lambda: tn.Sequential(tn.Flatten(end_dim=2)), "end_dim=2"),
    ("softmax_dim_0", lambda: tn.Sequential(tn.Softmax(dim=0)), "dim=0"),
    ("conv_dilation", lambda: tn.Sequential(tn.Conv2d(1, 1, 3, dilation=2)), "dilation=(2, 2)"),
    ("conv_groups", lambda: tn.Sequential(tn.Conv2d(2, 2, 3, groups=2)), "groups=2"),
    ("conv_padding_mode", lambda: tn.Sequential(tn.Conv2d(1, 1, 3, padding=1, padding_mode="reflect")),
     "padding_mode='reflect'"),
    ("conv_padding_same_even", lambda: tn.Sequential(tn.Conv2d(1, 1, 2, padding="same")), "padding='same'"),
    ("pool_padding", lambda: tn.Sequential(tn.MaxPool2d(3, padding=1)), "padding=1"),
    ("pool_dilation", lambda: tn.Sequential(tn.MaxPool2d(2, dilation=2)), "dilation=2"),
    ("pool_ceil_mode", lambda: tn.Sequential(tn.MaxPool2d(2, ceil_mode=True)), "ceil_mode=True"),
    ("pool_return_indices", lambda: tn.Sequential(tn.MaxPool2d(2, return_indices=True)),
     "return_indices=True"),
    ("overridden_forward", lambda: tn.Sequential(tn.Linear(2, 2), _DoubledReLU()), "overrides forward"),
]


@pytest.mark.parametrize("make, words", [c[1:] for c in REFUSED], ids=[c[0] for c in REFUSED])
def test_refused_with_the_setting_named(make, words):
    with pytest.raises(ValueError, match=words.replace("(", r"\(").replace(")", r"\)")):
        Sequential.from_torch(make())


def test_round_trip_through_to_torch_keeps_reading():
    torch.manual_seed(1)
    tm = tn.Sequential(tn.Conv2d(1, 2, 3, padding="same"), tn.ReLU(), tn.MaxPool2d(2), tn.Flatten(),
                       tn.Linear(8, 3), tn.Softmax(dim=1)).double().eval()
    model = Sequential.from_torch(tm)
    back = Sequential.from_torch(model.to_torch())
    x = _image(1, 4, 4, seed=2)
    assert _flat(back(x)) == pytest.approx(_flat(model(x)), abs=1e-15)
    with torch.no_grad():
        assert _flat(model(x)) == pytest.approx(tm(torch.tensor([x], dtype=torch.float64))[0].tolist(),
                                                abs=1e-12)
