"""Hostile inputs: numpy numbers are numbers, a bool never is, and every bad input gets an error that names
it.

Numbers are compared with torch float64 where there are numbers to compare.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from scalargrad import Scalar
from scalargrad.data import DataLoader, Dataset, make_blobs, make_moons, make_regression, ratio_split
from scalargrad.nn import (
    BCELoss,
    BCEWithLogitsLoss,
    Conv2D,
    CrossEntropyLoss,
    Dropout,
    Flatten,
    HingeLoss,
    L1Loss,
    LeakyReLU,
    Linear,
    MaxPool2D,
    MSELoss,
    Neuron,
    NLLLoss,
    Sequential,
    Softmax,
)
from scalargrad.train import AccuracyMetric
from scalargrad.train.metrics import ConfusionMatrix, F1Metric, R2Metric

NUMPY_FLOATS = [np.float32(0.5), np.float64(0.5)]
NUMPY_INTS = [np.int64(1), np.int32(1), np.uint8(1)]


# ---- point 17: numpy numbers are numbers ------------------------------------------------

@pytest.mark.parametrize("target", NUMPY_FLOATS + NUMPY_INTS, ids=lambda v: type(v).__name__)
@pytest.mark.parametrize("loss, torch_loss, output", [
    (MSELoss(), torch.nn.functional.mse_loss, 0.3),
    (L1Loss(), torch.nn.functional.l1_loss, 0.3),
    (BCELoss(), torch.nn.functional.binary_cross_entropy, 0.3),
    (BCEWithLogitsLoss(), torch.nn.functional.binary_cross_entropy_with_logits, 0.3),
], ids=["mse", "l1", "bce", "bce_logits"])
def test_losses_take_numpy_scalar_targets(loss, torch_loss, output, target):
    x = Scalar(output)
    y = loss([[x]], [target])
    y.backward()
    tx = torch.tensor([output], dtype=torch.float64, requires_grad=True)
    ty = torch_loss(tx, torch.tensor([float(target)], dtype=torch.float64))
    ty.backward()
    assert y.data == pytest.approx(ty.item(), abs=1e-12)
    assert x.grad == pytest.approx(tx.grad.item(), abs=1e-12)


def test_hinge_and_class_losses_take_numpy_targets():
    assert HingeLoss()([Scalar(0.5)], [np.int64(1)]).data == pytest.approx(0.5)
    assert HingeLoss()([Scalar(0.5)], [np.float32(-1.0)]).data == pytest.approx(1.5)
    logits = [[Scalar(1.0), Scalar(2.0)]]
    ours = CrossEntropyLoss(label_smoothing=np.float32(0.25))(logits, [np.int64(1)]).data
    theirs = torch.nn.functional.cross_entropy(torch.tensor([[1.0, 2.0]], dtype=torch.float64),
                                               torch.tensor([1]), label_smoothing=0.25).item()
    assert ours == pytest.approx(theirs, abs=1e-12)
    assert NLLLoss()([[Scalar(-0.5), Scalar(-1.0)]], [np.int32(1)]).data == 1.0


def test_losses_refuse_bools_and_strings_as_targets():
    for bad in (True, "0.5", None):
        with pytest.raises(TypeError, match="MSELoss targets must be numbers"):
            MSELoss()([[Scalar(1.0)]], [bad])


def test_losses_take_numpy_outputs():
    assert MSELoss()([np.float32(1.0)], [np.float64(0.5)]).data == 0.25
    with pytest.raises(ValueError, match="Scalar or a 1-element list"):
        MSELoss()([True], [0.0])


def test_layers_take_numpy_numbers_as_settings():
    assert Dropout(np.float32(0.5)).p == 0.5
    layer = Linear(np.int64(2), np.int32(1))
    assert (layer.size_in, layer.size_out) == (2, 1) and type(layer.size_in) is int
    assert len(layer([1.0, 2.0])) == 1
    assert Neuron(np.int64(3)).size == 3
    conv = Conv2D(np.int64(1), np.int64(2), np.int64(2), stride=np.int64(1), padding=(np.int64(1), 0))
    assert conv.kernel_size == (2, 2) and conv.padding == (1, 0)
    assert MaxPool2D(np.int64(2)).kernel_size == (2, 2)
    assert LeakyReLU(np.float32(0.25)).negative_slope == 0.25
    loader = DataLoader(([[1.0]] * 8, [0] * 8), batch_size=np.int64(4), seed=np.int64(0))
    assert [len(xb) for xb, _ in loader] == [4, 4]


def test_settings_refuse_bools_and_strings():
    with pytest.raises(ValueError, match="between 0 and 1"):
        Dropout(True)
    with pytest.raises(ValueError, match="size_in must be a positive int"):
        Linear(np.True_, 1)
    with pytest.raises(TypeError, match="negative_slope"):
        LeakyReLU("0.1")
    with pytest.raises(TypeError, match="negative_slope"):
        LeakyReLU(True)
    with pytest.raises(TypeError, match="weight 1"):
        Neuron(2).initialize(w=[0.1, "0.2"], b=0.0)
    with pytest.raises(TypeError, match="bias"):
        Neuron(2).initialize(w=[0.1, 0.2], b=True)
    neuron = Neuron(2)
    neuron.initialize(w=np.array([0.1, 0.2]), b=np.float32(0.5))
    assert [p.data for p in neuron.w] == [0.1, 0.2] and neuron.b.data == 0.5
    with pytest.raises(TypeError, match="shuffle"):
        DataLoader(([[1.0]], [0]), shuffle="no")


# ---- point 18: a clear error for each bad input ------------------------------------------

def test_softmax_takes_a_numpy_array_like_torch():
    values = np.array([1.0, 2.0, -3.0])
    ours = [p.data for p in Softmax()(values)]
    theirs = torch.softmax(torch.tensor(values, dtype=torch.float64), dim=-1).tolist()
    assert ours == pytest.approx(theirs, abs=1e-15)


@pytest.mark.parametrize("bad, error, words", [
    (Scalar(1.0), TypeError, "list of logits, got Scalar"),
    (3.0, TypeError, "list of logits, got float"),
    ([[[1.0, 2.0]]], ValueError, r"a list of logits or a batch of them .*got lists shaped \[1\]\[1\]\[2\]"),
    ([[1.0, 2.0], [[3.0], 4.0]], ValueError, r"ragged .*\(sample 1: Softmax: logit 0 is a nested list"),
    ([1.0, "2"], TypeError, "logit 1 is a str"),
    ([], ValueError, "empty"),
])
def test_softmax_names_bad_logits(bad, error, words):
    with pytest.raises(error, match=words):
        Softmax()(bad)


def test_maxpool_on_a_flat_list_names_the_shape():
    with pytest.raises(ValueError, match=r"MaxPool2D.*\[channels\]\[height\]\[width\].*nested 1 deep"):
        MaxPool2D(2)([1.0, 2.0, 3.0, 4.0])
    with pytest.raises(ValueError, match="MaxPool2D.*got a float"):
        MaxPool2D(2)(1.0)


@pytest.mark.parametrize("layer", [Conv2D(1, 1, 2), MaxPool2D(2)], ids=["conv", "pool"])
@pytest.mark.parametrize("image", [
    [[[1.0, 2.0], [3.0, 4.0, 5.0]]],  # a longer second row: was cut silently
    [[[1.0, 2.0, 3.0], [3.0, 4.0]]],  # a shorter one
    [[[1.0, 2.0], [3.0, 4.0]], [[1.0, 2.0]]],  # a channel with fewer rows
    [[[1.0, 2.0], [3.0, [4.0]]]],  # a list where a value belongs
], ids=["long_row", "short_row", "short_channel", "nested_value"])
def test_ragged_images_raise(layer, image):
    if isinstance(layer, Conv2D) and len(image) == 2:
        layer = Conv2D(2, 1, 2)
    with pytest.raises(ValueError, match="ragged image"):
        layer(image)


def test_conv_and_pool_read_numpy_images_like_torch():
    image = np.arange(18, dtype=np.float64).reshape(2, 3, 3) / 7.0
    conv = Conv2D(2, 1, 2)
    ours = [v.data for row in conv(image)[0] for v in row]
    weight = torch.tensor(conv.state_dict()["weight"], dtype=torch.float64)
    bias = torch.tensor(conv.state_dict()["bias"], dtype=torch.float64)
    theirs = torch.nn.functional.conv2d(torch.tensor(image)[None], weight, bias)[0, 0].flatten().tolist()
    assert ours == pytest.approx(theirs, abs=1e-12)
    pooled = MaxPool2D(2, 1)(image)
    assert pooled == torch.nn.functional.max_pool2d(torch.tensor(image), 2, 1).tolist()


def test_flatten_like_torch_and_names_bad_input():
    assert [v.data for v in Flatten()(Scalar(2.0))] == torch.flatten(torch.tensor(2.0)).tolist()
    assert Flatten()(np.arange(6.0).reshape(2, 3)) == torch.flatten(torch.arange(6.0).reshape(2, 3)).tolist()
    for bad in ("abc", None, {"a": 1}):
        with pytest.raises(TypeError, match="Flatten expects"):
            Flatten()(bad)
    with pytest.raises(TypeError, match="found a str"):
        Flatten()([[1.0], ["x"]])


@pytest.mark.parametrize("bad, error", [("0.1", TypeError), (True, TypeError), (None, TypeError),
                                        (math.nan, ValueError), (1.5, ValueError)])
def test_label_smoothing_is_named(bad, error):
    with pytest.raises(error, match="label_smoothing"):
        CrossEntropyLoss(label_smoothing=bad)


@pytest.mark.parametrize("centers, words", [
    ([], "centers must not be empty"),
    ([[0.0, 1.0], [2.0]], "point 1 has 1 values but point 0 has 2"),
    ([[0.0, math.nan]], "must be finite"),
    ([[0.0, "1"]], "must be an int or float"),
    ([3.0], "point 0 must be a non-empty list"),
])
def test_make_blobs_names_bad_centers(centers, words):
    with pytest.raises((TypeError, ValueError), match=words):
        make_blobs(10, centers=centers)


def test_make_blobs_takes_numpy_centers():
    x, y = make_blobs(6, centers=np.int64(2), seed=0)
    assert sorted(set(y)) == [0, 1] and len(x[0]) == 2
    x, y = make_blobs(6, centers=np.array([[0.0, 0.0, 0.0], [5.0, 5.0, 5.0]]), cluster_std=0.0, seed=0)
    assert sorted(map(tuple, x)) == [(0.0, 0.0, 0.0)] * 3 + [(5.0, 5.0, 5.0)] * 3
    for bad in ({"cluster_std": -1.0}, {"center_box": (1.0, -1.0)}, {"center_box": (0.0,)},
                {"n_features": 0}):
        with pytest.raises(ValueError):
            make_blobs(6, **bad)


@pytest.mark.parametrize("ratios", [(0.5, math.nan), (math.inf, 0.5), (0.5, -math.inf)])
def test_ratio_split_names_non_finite_ratios(ratios):
    ds = Dataset([[float(i)] for i in range(4)], [0] * 4)
    with pytest.raises(ValueError, match="ratios entry must be finite"):
        ratio_split(ds, *ratios)


def test_generators_check_noise():
    with pytest.raises(ValueError, match="noise"):
        make_moons(10, noise=-0.1)
    with pytest.raises(TypeError, match="noise"):
        make_moons(10, noise="0.1")
    with pytest.raises(TypeError, match="bias"):
        make_regression(10, bias="1")


@pytest.mark.parametrize("size, error", [(-1, ValueError), (0, ValueError), ((1, 0, 8), ValueError),
                                         ((), ValueError), (2.0, TypeError), (True, TypeError),
                                         ("4", TypeError)])
def test_summary_names_a_bad_input_size(size, error):
    model = Sequential([Linear(2, 1)])
    with pytest.raises(error, match="input_size"):
        model.summary(input_size=size)


def test_summary_takes_numpy_sizes():
    text = Sequential([Linear(2, 3)]).summary(input_size=np.int64(2))
    assert "3" in text.splitlines()[2]


# ---- point 9: an output that names no class is never a correct prediction ------------------

NAN, INF = math.nan, math.inf


def test_all_nan_model_scores_zero():
    targets = [0, 0, 0, 0, 1]
    outputs = [[NAN, NAN]] * 5
    # torch's argmax names a class for these (the nan's index), which would score 0.8 here
    assert torch.tensor(outputs, dtype=torch.float64).argmax(dim=1).tolist() == [0] * 5
    assert AccuracyMetric()(outputs, targets) == 0.0
    assert F1Metric()(outputs, targets) == 0.0
    cm = ConfusionMatrix()
    assert cm(outputs, targets) == [[0, 0], [0, 0]]
    assert cm.undefined == [4, 1] and cm.labels == [0, 1]


def test_single_nan_output_is_wrong_for_binary_targets():
    assert AccuracyMetric()([NAN, NAN, 0.2, 0.9], [0, 1, 0, 1]) == 0.5
    assert AccuracyMetric()([[NAN], [-2.0]], [-1, -1]) == 0.5
    cm = ConfusionMatrix()
    assert cm([NAN, 0.2, 0.9], [0, 0, 1]) == [[1, 0], [0, 1]] and cm.undefined == [1, 0]


@pytest.mark.parametrize("row, target, correct", [
    ([NAN, 1.0], 1, False),  # nan anywhere: undefined, even where the max is elsewhere
    ([1.0, NAN], 0, False),
    ([INF, INF], 0, False),  # a tie at inf: no class is ahead
    ([-INF, -INF], 0, False),
    ([INF, 1.0], 0, True),  # one inf is a clear winner
    ([-INF, 0.0], 1, True),
    ([1.0, 1.0], 0, True),  # finite ties: the first, as torch
])
def test_undefined_rows(row, target, correct):
    assert AccuracyMetric()([row, [0.0, 5.0]], [target, 1]) == (1.0 if correct else 0.5)
    if correct:
        assert torch.tensor(row, dtype=torch.float64).argmax().item() == target


def test_f1_counts_an_undefined_sample_as_a_miss_only():
    outputs = [[1.0, 0.0], [0.0, 1.0], [NAN, 0.0]]
    targets = [0, 1, 1]
    # class 0: tp 1, fp 0, fn 0 -> 1; class 1: tp 1, fp 0, fn 1 -> 2/3
    assert F1Metric()(outputs, targets) == pytest.approx((1.0 + 2 / 3) / 2)


def test_a_diverged_model_never_beats_a_working_one():
    targets = [0, 0, 0, 0, 1]
    working = [[1.0, 0.0], [1.0, 0.0], [0.0, 1.0], [1.0, 0.0], [0.0, 1.0]]  # 4 of 5
    diverged = [[NAN, NAN]] * 5
    for metric in (AccuracyMetric(), F1Metric()):
        assert metric(diverged, targets) < metric(working, targets)


def test_r2_of_a_nan_model_is_nan_even_for_constant_targets():
    assert math.isnan(R2Metric()([NAN, NAN, NAN], [2.0, 2.0, 2.0]))
    assert math.isnan(R2Metric()([NAN, 1.0, 2.0], [1.0, 2.0, 4.0]))
    assert R2Metric()([2.0, 2.0], [2.0, 2.0]) == 1.0 and R2Metric()([1.0, 3.0], [2.0, 2.0]) == 0.0
