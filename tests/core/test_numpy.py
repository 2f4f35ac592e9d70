"""numpy arrays and numbers go wherever lists and numbers go, and give exactly what the lists give.

Every entry point is run twice, on numpy input and on the lists ``tolist()``
makes of it: the values (and gradients) must be equal bit for bit. Where a
gradient is involved it is also checked against torch float64. The library
itself never imports numpy: it reads arrays by duck typing (``tolist()``).
"""

from __future__ import annotations

import math
import operator
import random
import struct
import subprocess
import sys

import numpy as np
import pytest
from parameterized import parameterized

from scalargrad import Scalar
from scalargrad import functional as F
from scalargrad.data import DataLoader, Dataset, split_train_val
from scalargrad.nn import (
    SGD,
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
    ReLU,
    Sequential,
    Sigmoid,
    Softmax,
    Tanh,
)
from scalargrad.train import AccuracyMetric, Evaluator, MSEMetric, Trainer

torch = pytest.importorskip("torch")


def leaves(value) -> list:
    """The leaves of nested lists, in order."""
    if isinstance(value, (list, tuple)):
        return [leaf for v in value for leaf in leaves(v)]
    return [value]


def bits(value) -> list:
    """The exact float64 bits of every number in (nested lists of) Scalars and numbers."""
    return [struct.pack("<d", v.data if isinstance(v, Scalar) else float(v)) for v in leaves(value)]


def grads(params) -> list:
    return [struct.pack("<d", p.grad) for p in params]


RNG = np.random.default_rng(0)


def vector(n: int, dtype=np.float64) -> np.ndarray:
    return RNG.normal(size=n).astype(dtype)


# ---- the number rule: numpy numbers and 0-d arrays are numbers, a bool never is ---------------------

NUMPY_NUMBERS = [np.float16(1.5), np.float32(0.1), np.float64(-2.25), np.int8(-3), np.int32(7), np.int64(5),
                 np.uint8(200), np.array(0.3), np.array(4), np.array(np.float32(0.7))]


@pytest.mark.parametrize("value", NUMPY_NUMBERS, ids=repr)
def test_scalar_takes_numpy_numbers_as_their_tolist(value):
    assert Scalar(value).data == float(value.tolist())
    assert type(Scalar(value).data) is float


@pytest.mark.parametrize("value", [np.bool_(True), np.array(True), np.array([1.0]), np.zeros((2, 2)),
                                   np.array(1 + 2j), np.array("1.0")], ids=repr)
def test_scalar_refuses_numpy_values_that_are_not_one_number(value):
    with pytest.raises(TypeError, match="Scalar data must be an int or float"):
        Scalar(value)


def test_an_array_where_a_number_goes_is_named_with_its_shape():
    with pytest.raises(TypeError, match=r"a numpy array of shape \(3,\)"):
        Scalar(np.zeros(3))
    with pytest.raises(TypeError, match=r"shape \(1,\); \.item\(\) gives its one number"):
        Scalar(np.zeros(1))


# (name, our op on (x, number), torch's on (t, number)); each is tried with the number on either side
BINARY = [
    ("add", lambda a, b: a + b),
    ("sub", lambda a, b: a - b),
    ("mul", lambda a, b: a * b),
    ("div", lambda a, b: a / b),
    ("pow", lambda a, b: a ** b),
]


@parameterized.expand([(f"{name}_{side}_{type(n).__name__}{getattr(n, 'ndim', '')}", op, side, n)
                       for name, op in BINARY for side in ("left", "right")
                       for n in (np.float64(1.5), np.float32(0.1), np.int64(3), np.array(2.0), np.array(2))])
def test_arithmetic_with_numpy_numbers_on_either_side(_, op, side, number):
    """``np.float32(2) * x`` is a Scalar (numpy hands it over), equal to ``2.0 * x`` bit for bit,
    with torch float64's gradient."""
    plain = number.tolist()
    x, x_plain, t = Scalar(1.25), Scalar(1.25), torch.tensor(1.25, dtype=torch.float64, requires_grad=True)
    if side == "left":
        y, y_plain, ty = op(number, x), op(plain, x_plain), op(float(plain), t)
    else:
        y, y_plain, ty = op(x, number), op(x_plain, plain), op(t, float(plain))
    assert type(y) is Scalar
    y.backward()
    y_plain.backward()
    ty.backward()
    assert bits(y) == bits(y_plain) and grads([x]) == grads([x_plain])
    assert math.isclose(y.data, ty.item(), rel_tol=1e-12)
    assert math.isclose(x.grad, t.grad.item(), rel_tol=1e-12)


@pytest.mark.parametrize("number", [np.float64(2.0), np.float32(2.0), np.int64(2), np.array(2.0)], ids=repr)
def test_comparisons_with_numpy_numbers(number):
    """As with the plain number, on either side (np.float64, a float, may answer with numpy's bool)."""
    x, y = Scalar(2.0), Scalar(3.0)
    for a, b in ((x, number), (number, x), (y, number), (number, y)):
        plain_a, plain_b = [v.tolist() if isinstance(v, (np.generic, np.ndarray)) else v.data for v in (a, b)]
        for op in (operator.lt, operator.le, operator.gt, operator.ge, operator.eq, operator.ne):
            assert bool(op(a, b)) == op(plain_a, plain_b), (a, op, b)


def test_numpy_bools_and_arrays_do_not_mix_with_scalars():
    x = Scalar(2.0)
    with pytest.raises(TypeError):
        np.bool_(True) * x
    with pytest.raises(TypeError):
        x + np.bool_(True)
    for array in (np.array([1.0, 2.0]), np.ones((2, 2))):  # no object array of Scalars behind the user's back
        with pytest.raises(TypeError):
            array * x
        with pytest.raises(TypeError):
            x + array
    assert (True * x).data == 2.0  # Python's bool mixes as it always has, as in torch


def test_backward_and_settings_take_numpy_numbers():
    x = Scalar(3.0)
    (x * x).backward(np.float32(0.5))
    assert x.grad == 3.0
    assert Scalar(1.0).leaky_relu(np.float64(0.2)).data == 1.0
    assert SGD([x], lr=np.array(0.1)).param_groups[0]["lr"] == 0.1


# ---- layers and models -------------------------------------------------------------------------------

def _torch_linear(layer: Linear):
    t = torch.nn.Linear(layer.size_in, layer.size_out).double()
    with torch.no_grad():
        t.weight.copy_(torch.tensor(layer.weight(), dtype=torch.float64))
        t.bias.copy_(torch.tensor([n.b.data for n in layer.neurons], dtype=torch.float64))
    return t


def same_as_lists(model, given, as_lists):
    """Run ``model`` on the numpy input and on its lists, back-propagating the sum of the outputs each
    time: the outputs and the parameters' gradients must be equal bit for bit. Returns the first output
    (the gradients it left are in the parameters)."""
    out_lists = model(as_lists)
    F.sum(leaves(out_lists)).backward()
    grads_lists = grads(model.parameters())
    model.zero_grad()
    out = model(given)
    F.sum(leaves(out)).backward()
    assert bits(out) == bits(out_lists) and grads(model.parameters()) == grads_lists
    return out


@parameterized.expand([(dt.__name__, act, dt) for dt in (np.float64, np.float32, np.int64)
                       for act in ("relu", "tanh", "identity")])
def test_linear_on_a_numpy_vector(_, activation, dtype):
    random.seed(1)
    layer = Linear(5, 3, activation=activation)
    x = (vector(5) * 3).astype(dtype)
    out_np = same_as_lists(layer, x, x.tolist())
    t = _torch_linear(layer)
    act = {"relu": torch.relu, "tanh": torch.tanh, "identity": lambda v: v}[activation]
    ty = act(t(torch.tensor(x.tolist(), dtype=torch.float64)))
    ty.sum().backward()
    assert np.allclose([o.data for o in out_np], ty.detach().numpy(), rtol=1e-12, atol=0)
    w_grads = [[p.grad for p in n.w] for n in layer.neurons]
    assert np.allclose(w_grads, t.weight.grad.numpy(), rtol=1e-12, atol=1e-300)


def test_neuron_and_a_model_take_numpy_vectors():
    random.seed(2)
    x = vector(4, np.float32)
    neuron = Neuron(4, activation="sigmoid")
    assert bits(neuron(x)) == bits(neuron(x.tolist()))
    model = Sequential([Linear(4, 8, activation="relu"), Linear(8, 3), Tanh()])
    assert bits(model(x)) == bits(model(x.tolist()))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_load_state_dict_takes_numpy_arrays(dtype):
    random.seed(6)
    source = Sequential([Linear(3, 4, activation="relu"), Linear(4, 2)])
    arrays = {key: np.array(value, dtype=dtype) for key, value in source.state_dict().items()}
    from_arrays, from_lists = (Sequential([Linear(3, 4), Linear(4, 2)]),
                               Sequential([Linear(3, 4), Linear(4, 2)]))
    from_arrays.load_state_dict(arrays)
    from_lists.load_state_dict({key: value.tolist() for key, value in arrays.items()})
    assert bits(list(from_arrays.state_dict().values())) == bits(list(from_lists.state_dict().values()))
    with pytest.raises(ValueError, match=r"expected shape \[4, 3\]|expected shape \[3\]"):
        from_arrays.load_state_dict({**arrays, "0.neurons.0.w": np.zeros(2)})


def test_linear_takes_a_2d_array_as_a_batch_of_rows():
    random.seed(2)
    layer = Linear(3, 2)
    batch = vector(6).reshape(2, 3)
    assert bits(layer(batch)) == bits([layer(row) for row in batch.tolist()])
    with pytest.raises(ValueError, match=r"Linear\(3, 2\) expects 3 numbers or a batch of lists of 3; "
                                         r"got a list of 2 lists of 4"):
        layer(np.zeros((2, 4)))


@pytest.mark.parametrize("layer", [Conv2D(1, 2, 3), MaxPool2D(2)], ids=["conv", "pool"])
def test_image_layers_take_a_4d_array_as_a_batch_of_images(layer):
    images = vector(100).reshape(4, 1, 5, 5)
    assert bits(layer(images)) == bits([layer(image) for image in images.tolist()])
    with pytest.raises(ValueError, match=r"expects an image \[.*\]\[height\]\[width\] or a batch of them "
                                         r"\(a list of images\); got lists shaped "
                                         r"\[2\]\[4\]\[1\]\[5\]\[5\]$"):
        layer(np.zeros((2, 4, 1, 5, 5)))


@pytest.mark.parametrize("form", ["array", "list_of_arrays"])
def test_conv2d_and_maxpool_on_numpy_images(form):
    random.seed(3)
    image = vector(2 * 6 * 6).reshape(2, 6, 6)
    given = image if form == "array" else [channel for channel in image]
    model = Sequential([Conv2D(2, 3, kernel_size=3, padding=1, activation="relu"), MaxPool2D(2), Flatten(),
                        Linear(27, 2)])
    out = same_as_lists(model, given, image.tolist())
    conv = model[0]
    tw = torch.tensor([[[[p.data for p in row] for row in ch] for ch in o] for o in conv.weight],
                      dtype=torch.float64, requires_grad=True)
    tb = torch.tensor([p.data for p in conv.bias], dtype=torch.float64)
    lin = model[3]
    tl = torch.tensor(lin.weight(), dtype=torch.float64)
    tlb = torch.tensor([n.b.data for n in lin.neurons], dtype=torch.float64)
    hidden = torch.max_pool2d(torch.relu(torch.conv2d(torch.tensor(image)[None], tw, tb, padding=1)), 2)
    ty = hidden.flatten() @ tl.T + tlb
    ty.sum().backward()
    assert np.allclose([o.data for o in out], ty.detach().numpy(), rtol=1e-12, atol=1e-15)
    ours = [p.grad for p in leaves(conv.weight)]
    assert np.allclose(ours, tw.grad.flatten().numpy(), rtol=1e-10, atol=1e-15)


@pytest.mark.parametrize("layer", [ReLU(), Sigmoid(), Tanh(), LeakyReLU(0.1), Flatten()], ids=repr)
def test_elementwise_layers_and_flatten_on_arrays(layer):
    x = vector(12).reshape(3, 4)
    assert bits(layer(x)) == bits(layer(x.tolist()))


def test_softmax_module_and_dropout_on_arrays():
    logits = vector(5, np.float32)
    assert bits(Softmax()(logits)) == bits(Softmax()(logits.tolist()))
    x = vector(10)
    random.seed(4)
    dropped = Dropout(0.5)(x)
    random.seed(4)
    assert bits(dropped) == bits(Dropout(0.5)(x.tolist()))


# ---- losses: outputs and targets ---------------------------------------------------------------------

def _logits(batch=4, classes=3):
    values = vector(batch * classes).reshape(batch, classes)
    return values, [[Scalar(v) for v in row] for row in values.tolist()]


@pytest.mark.parametrize("targets", [np.array([0, 2, 1, 2]), np.array([0, 2, 1, 2], dtype=np.int32),
                                     [np.int64(0), np.int64(2), np.int64(1), np.int64(2)]],
                         ids=["int64", "int32", "list"])
def test_cross_entropy_takes_numpy_targets(targets):
    _, zs = _logits()
    loss = CrossEntropyLoss()(zs, targets)
    loss.backward()
    _, zs_list = _logits()
    zs_list = [[Scalar(v.data) for v in row] for row in zs]
    loss_list = CrossEntropyLoss()(zs_list, [0, 2, 1, 2])
    loss_list.backward()
    assert bits(loss) == bits(loss_list)
    assert grads([v for row in zs for v in row]) == grads([v for row in zs_list for v in row])
    t = torch.tensor([[v.data for v in row] for row in zs], dtype=torch.float64, requires_grad=True)
    ty = torch.nn.functional.cross_entropy(t, torch.tensor([0, 2, 1, 2]))
    ty.backward()
    assert math.isclose(loss.data, ty.item(), rel_tol=1e-12)
    assert np.allclose([[v.grad for v in row] for row in zs], t.grad.numpy(), rtol=1e-10, atol=1e-15)


def test_nll_takes_numpy_targets():
    zs = [[Scalar(-0.5), Scalar(-1.5)], [Scalar(-2.0), Scalar(-0.1)]]
    assert bits(NLLLoss()(zs, np.array([1, 0]))) == bits(NLLLoss()(zs, [1, 0]))


@pytest.mark.parametrize("shape", [(4,), (4, 1)])
@pytest.mark.parametrize("loss_class", [MSELoss, L1Loss, BCEWithLogitsLoss], ids=lambda c: c.__name__)
def test_regression_losses_take_numpy_targets(loss_class, shape):
    outputs = [[Scalar(v)] for v in vector(4).tolist()]
    targets = RNG.uniform(size=shape)
    loss = loss_class()(outputs, targets)
    loss.backward()
    g = grads([o[0] for o in outputs])
    for o in outputs:
        o[0].grad = 0.0
    loss_list = loss_class()(outputs, targets.tolist())
    loss_list.backward()
    assert bits(loss) == bits(loss_list) and g == grads([o[0] for o in outputs])
    torch_loss = {MSELoss: torch.nn.MSELoss(), L1Loss: torch.nn.L1Loss(),
                  BCEWithLogitsLoss: torch.nn.BCEWithLogitsLoss()}[loss_class]
    t = torch.tensor([o[0].data for o in outputs], dtype=torch.float64, requires_grad=True)
    ty = torch_loss(t, torch.tensor(targets.reshape(-1), dtype=torch.float64))
    ty.backward()
    assert math.isclose(loss.data, ty.item(), rel_tol=1e-12)
    assert np.allclose([o[0].grad for o in outputs], t.grad.numpy(), rtol=1e-10, atol=1e-15)


def test_losses_take_a_list_of_numpy_target_rows_and_binary_losses_numpy_targets():
    outputs = [[Scalar(0.5), Scalar(-1.0)], [Scalar(2.0), Scalar(0.0)]]
    rows = [np.array([0.0, 1.0]), np.array([1.5, -0.5])]
    assert bits(MSELoss()(outputs, rows)) == bits(MSELoss()(outputs, [r.tolist() for r in rows]))
    probs = [Scalar(0.2), Scalar(0.9)]
    assert bits(BCELoss()(probs, np.array([0.0, 1.0]))) == bits(BCELoss()(probs, [0.0, 1.0]))
    assert bits(HingeLoss()(probs, np.array([-1, 1]))) == bits(HingeLoss()(probs, [-1, 1]))


# ---- errors that teach: one sample where a batch goes ------------------------------------------------

def test_cross_entropy_on_one_sample_says_how_to_pass_it():
    random.seed(5)
    model = Linear(3, 2)
    out = model([0.1, 0.2, 0.3])
    with pytest.raises(ValueError, match=r"got 2 outputs but 1 targets.*loss_fn\(\[output\], \[target\]\)"):
        CrossEntropyLoss()(out, [1])
    with pytest.raises(ValueError, match=r"list of logit lists, one per sample, got a list of 2 Scalars.*"
                                         r"loss_fn\(\[output\], \[target\]\)"):
        CrossEntropyLoss()(out, [1, 0])
    with pytest.raises(TypeError, match=r"loss_fn\(\[output\], \[target\]\)"):
        CrossEntropyLoss()(out, 1)
    assert CrossEntropyLoss()([out], [1]).data > 0.0  # what the message suggests works


@pytest.mark.parametrize("loss_class", [MSELoss, L1Loss, BCEWithLogitsLoss, HingeLoss, NLLLoss],
                         ids=lambda c: c.__name__)
def test_other_losses_on_one_sample_say_how_to_pass_it(loss_class):
    out = [Scalar(0.3), Scalar(-0.2)]
    with pytest.raises((TypeError, ValueError), match=r"loss_fn\(\[output\], \[target\]\)"):
        loss_class()(out, 1)
    with pytest.raises(ValueError, match=r"2 outputs but 1 targets.*loss_fn\(\[output\], \[target\]\)"):
        loss_class()(out, [1])


def test_a_real_batch_mismatch_gets_no_one_sample_hint():
    zs = [[Scalar(0.1), Scalar(0.2)], [Scalar(0.3), Scalar(0.4)]]
    with pytest.raises(ValueError) as error:
        CrossEntropyLoss()(zs, [0])
    assert "2 outputs but 1 targets" in str(error.value) and "loss_fn([output]" not in str(error.value)


# ---- functional --------------------------------------------------------------------------------------

def _ws(n, seed):
    rng = np.random.default_rng(seed)
    return [Scalar(v) for v in rng.normal(size=n).tolist()]


FUNCTIONAL = [
    ("sum", lambda ws, a: F.sum(a, start=ws[0]), lambda ws, a: F.sum(a.tolist(), start=ws[0])),
    ("sum_of_scalars", lambda ws, a: F.sum(np.array(ws, dtype=object)), lambda ws, a: F.sum(ws)),
    ("mean", lambda ws, a: F.mean(a), lambda ws, a: F.mean(a.tolist())),
    ("dot", lambda ws, a: F.dot(ws, a, bias=np.float32(0.5)), lambda ws, a: F.dot(ws, a.tolist(), bias=0.5)),
    ("dot_numbers_first", lambda ws, a: F.dot(a, ws), lambda ws, a: F.dot(a.tolist(), ws)),
    ("neuron", lambda ws, a: F.neuron(ws, a, ws[0], "tanh"),
     lambda ws, a: F.neuron(ws, a.tolist(), ws[0], "tanh")),
    ("linear", lambda ws, a: F.sum(F.linear([ws, ws[::-1]], a, None, "relu")),
     lambda ws, a: F.sum(F.linear([ws, ws[::-1]], a.tolist(), None, "relu"))),
    ("matvec", lambda ws, a: F.sum(F.matvec(np.stack([a, a * 2]), ws)),
     lambda ws, a: F.sum(F.matvec(np.stack([a, a * 2]).tolist(), ws))),
    ("matmul",
     lambda ws, a: F.sum([v for row in F.matmul(np.outer(a, a[:2]), [ws[:3], ws[3:6]]) for v in row]),
     lambda ws, a: F.sum([v for row in F.matmul(np.outer(a, a[:2]).tolist(), [ws[:3], ws[3:6]])
                          for v in row])),
    ("window_max", lambda ws, a: F.window_max(np.array(ws, dtype=object)), lambda ws, a: F.window_max(ws)),
    ("softmax", lambda ws, a: F.dot(F.softmax(np.array(ws, dtype=object)), a),
     lambda ws, a: F.dot(F.softmax(ws), a.tolist())),
    ("log_softmax", lambda ws, a: F.sum(F.log_softmax(np.array(ws, dtype=object))),
     lambda ws, a: F.sum(F.log_softmax(ws))),
    ("logsumexp", lambda ws, a: F.logsumexp(np.array(ws, dtype=object)), lambda ws, a: F.logsumexp(ws)),
    ("tensordot", lambda ws, a: F.sum(F.tensordot(a.reshape(2, 3), [ws[:2], ws[2:4], ws[4:]], axes=1)[1]),
     lambda ws, a: F.sum(F.tensordot(a.reshape(2, 3).tolist(), [ws[:2], ws[2:4], ws[4:]], axes=1)[1])),
    ("mul_broadcast", lambda ws, a: F.sum(F.mul(ws, a)), lambda ws, a: F.sum(F.mul(ws, a.tolist()))),
    ("add_reshape", lambda ws, a: F.dot(ws, F.flatten(F.add(F.transpose(a.reshape(3, 2)), 1.0))),
     lambda ws, a: F.dot(ws, F.flatten(F.add(F.transpose(a.reshape(3, 2).tolist()), 1.0)))),
]


@parameterized.expand([(name, with_numpy, with_lists, dtype) for name, with_numpy, with_lists in FUNCTIONAL
                       for dtype in (np.float64, np.float32)])
def test_functional_ops_on_numpy_give_the_list_result(name, with_numpy, with_lists, dtype):
    a = vector(6, dtype)
    ws = _ws(6, 7)
    y = with_numpy(ws, a)
    y.backward()
    g = grads(ws)
    ws_list = [Scalar(w.data) for w in ws]
    y_list = with_lists(ws_list, a)
    y_list.backward()
    assert bits(y) == bits(y_list) and g == grads(ws_list)


def test_backward_jacobian_and_replay_take_arrays():
    from scalargrad import backward
    from scalargrad.autograd import jacobian
    from scalargrad.replay import Replay

    seeds = np.array([[1.0, 2.0], [0.5, -1.0]])
    xs = [[Scalar(0.5), Scalar(-2.0)], [Scalar(3.0), Scalar(1.5)]]
    backward(F.mul(xs, xs), grad_outputs=seeds)
    xs_list = [[Scalar(v.data) for v in row] for row in xs]
    backward(F.mul(xs_list, xs_list), grad_outputs=seeds.tolist())
    assert grads(leaves(xs)) == grads(leaves(xs_list))

    point = np.array([2.0, 3.0], dtype=np.float32)
    assert jacobian(lambda u, v: [u * v, u - v], point) == jacobian(lambda u, v: [u * v, u - v],
                                                                    point.tolist())

    x = [Scalar(0.0), Scalar(0.0)]
    named = Replay(lambda: F.dot(x, x), inputs={"x": x})
    positional = Replay(lambda: F.dot(x, x), inputs=x)
    assert named.forward(x=np.array([3.0, 4.0])) == positional.forward(np.array([3.0, 4.0])) == 25.0
    with pytest.raises(ValueError, match="shape"):
        named.forward(x=np.zeros(3))


def test_dot_gradient_against_torch_with_a_float32_array():
    a = vector(6, np.float32)
    ws = _ws(6, 8)
    F.dot(ws, a).backward()
    t = torch.tensor([w.data for w in ws], dtype=torch.float64, requires_grad=True)
    (t @ torch.tensor(a.tolist(), dtype=torch.float64)).backward()
    assert np.allclose([w.grad for w in ws], t.grad.numpy(), rtol=1e-15, atol=0)


# ---- data and training -------------------------------------------------------------------------------

def _data(n=40):
    rng = np.random.default_rng(9)
    x = rng.normal(size=(n, 3))
    y = (x[:, 0] + x[:, 1] > 0).astype(np.int64)
    return x, y


def test_dataset_loader_and_split_take_arrays():
    x, y = _data()
    assert [b for b in DataLoader((x, y), batch_size=8, seed=3)] == \
        [b for b in DataLoader((x.tolist(), y.tolist()), batch_size=8, seed=3)]
    assert split_train_val(x, y, val_size=0.25, seed=1) == split_train_val(x.tolist(), y.tolist(),
                                                                           val_size=0.25, seed=1)
    assert Dataset(list(x), list(y))[0] == (x[0].tolist(), y[0].tolist())  # a list of rows: each row a list


def _train(x, y, seed=0):
    random.seed(seed)
    model = Sequential([Linear(3, 4, activation="tanh"), Linear(4, 2)])
    history = Trainer(x=x, y=y, model=model, loss=CrossEntropyLoss(),
                      optimizer=SGD(model.parameters(), lr=0.1), batch_size=8, num_epochs=3, seed=seed,
                      progress=False,
                      evaluator=Evaluator(x=x, y=y, model=model, metric=AccuracyMetric())).run()
    return [p.data for p in model.parameters()], history["val_accuracy"]


@pytest.mark.parametrize("form", ["arrays", "lists_of_rows"])
def test_trainer_and_evaluator_on_numpy_data_reach_the_same_weights(form):
    x, y = _data()
    given = (x, y) if form == "arrays" else (list(x), list(y))
    weights, accuracy = _train(*given)
    weights_list, accuracy_list = _train(x.tolist(), y.tolist())
    assert bits(weights) == bits(weights_list) and accuracy == accuracy_list


def test_metrics_take_numpy_outputs_and_targets():
    outputs = np.array([[0.1, 0.9], [0.8, 0.2]])
    assert AccuracyMetric()(outputs, np.array([1, 1])) == AccuracyMetric()(outputs.tolist(), [1, 1]) == 0.5
    assert MSEMetric()(np.array([1.0, 2.0]), np.array([1.5, 2.0])) == MSEMetric()([1.0, 2.0], [1.5, 2.0])


# ---- the library never imports numpy ----------------------------------------------------------------

def test_the_package_runs_without_importing_numpy():
    code = ("import sys, scalargrad, scalargrad.nn, scalargrad.train, scalargrad.data, "
            "scalargrad.functional\n"
            "from scalargrad.nn import Linear\n"
            "Linear(2, 1)([1.0, 2.0])\n"
            "print('numpy' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_plain_lists_are_not_copied_by_the_conversion():
    from scalargrad._util.nested import to_lists
    xs = [[1.0, 2.0], [Scalar(1.0)], (3, 4)]
    assert to_lists(xs) is xs
    assert to_lists([np.float32(0.5), [np.arange(2)]]) == [0.5, [[0, 1]]]
