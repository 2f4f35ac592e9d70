"""Optimizers and lr schedulers, checked step for step against torch.optim in float64."""

from __future__ import annotations

import copy
import json
import math

import pytest
from parameterized import parameterized

from scalargrad.nn.lr_scheduler import (
    CosineAnnealingLR,
    ExponentialLR,
    LRScheduler,
    ReduceLROnPlateau,
    StepLR,
)
from scalargrad.nn.optim import SGD, Adadelta, Adagrad, Adam, AdamW, Optimizer, RMSprop
from scalargrad.nn.optim.state_dict import reorder_state_dict
from scalargrad.scalar import Scalar

try:
    import torch
except ImportError:  # the torch comparisons are skipped, the rest still runs
    torch = None

needs_torch = pytest.mark.skipif(torch is None, reason="torch is not installed")

REL_TOL = 1e-10
ABS_TOL = 1e-12

OPTIMIZERS = {"SGD": SGD, "Adam": Adam, "AdamW": AdamW, "RMSprop": RMSprop, "Adagrad": Adagrad,
              "Adadelta": Adadelta}

# (test name, optimizer name, keyword arguments): every option of every optimizer.
CONFIGS = [
    ("sgd", "SGD", {"lr": 0.05}),
    ("sgd_momentum_none", "SGD", {"lr": 0.05, "momentum": None}),
    ("sgd_momentum", "SGD", {"lr": 0.05, "momentum": 0.9}),
    ("sgd_momentum_dampening", "SGD", {"lr": 0.05, "momentum": 0.9, "dampening": 0.3}),
    ("sgd_nesterov", "SGD", {"lr": 0.05, "momentum": 0.8, "nesterov": True}),
    ("sgd_weight_decay", "SGD", {"lr": 0.05, "weight_decay": 0.1}),
    ("sgd_all", "SGD", {"lr": 0.03, "momentum": 0.7, "nesterov": True, "weight_decay": 0.05}),
    ("sgd_maximize", "SGD", {"lr": 0.01, "momentum": 0.5, "maximize": True}),
    ("adam", "Adam", {"lr": 0.05}),
    ("adam_betas", "Adam", {"lr": 0.05, "betas": (0.5, 0.9), "eps": 1e-6}),
    # With beta2 small, v falls as the gradients shrink, so AMSGrad's running maximum matters.
    ("adam_amsgrad", "Adam", {"lr": 0.05, "betas": (0.9, 0.6), "amsgrad": True}),
    ("adam_weight_decay", "Adam", {"lr": 0.05, "weight_decay": 0.1}),
    ("adam_weight_decay_amsgrad", "Adam", {"lr": 0.05, "betas": (0.8, 0.5), "weight_decay": 0.1,
                                           "amsgrad": True}),
    ("adam_maximize", "Adam", {"lr": 0.02, "maximize": True}),
    # eps=0: the parameter with a zero gradient gets 0/0 = nan, in torch too.
    ("adam_eps_zero", "Adam", {"lr": 0.05, "eps": 0.0}),
    ("adamw", "AdamW", {"lr": 0.05}),
    ("adamw_weight_decay", "AdamW", {"lr": 0.05, "weight_decay": 0.3}),
    ("adamw_amsgrad", "AdamW", {"lr": 0.05, "betas": (0.9, 0.6), "weight_decay": 0.1, "amsgrad": True}),
    ("rmsprop", "RMSprop", {"lr": 0.01}),
    ("rmsprop_alpha", "RMSprop", {"lr": 0.01, "alpha": 0.8, "eps": 1e-6}),
    ("rmsprop_momentum", "RMSprop", {"lr": 0.01, "momentum": 0.9}),
    ("rmsprop_centered", "RMSprop", {"lr": 0.01, "centered": True}),
    ("rmsprop_centered_momentum", "RMSprop", {"lr": 0.01, "centered": True, "momentum": 0.5}),
    ("rmsprop_weight_decay", "RMSprop", {"lr": 0.01, "weight_decay": 0.1, "momentum": 0.3}),
    ("rmsprop_maximize", "RMSprop", {"lr": 0.01, "maximize": True}),
    ("adagrad", "Adagrad", {"lr": 0.1}),
    ("adagrad_lr_decay", "Adagrad", {"lr": 0.1, "lr_decay": 0.05}),
    ("adagrad_weight_decay", "Adagrad", {"lr": 0.1, "weight_decay": 0.2}),
    ("adagrad_initial_accumulator", "Adagrad", {"lr": 0.1, "initial_accumulator_value": 0.3, "eps": 1e-6}),
    ("adagrad_maximize", "Adagrad", {"lr": 0.1, "maximize": True}),
    ("adadelta", "Adadelta", {}),
    ("adadelta_rho", "Adadelta", {"lr": 0.5, "rho": 0.5, "eps": 1e-4}),
    ("adadelta_weight_decay", "Adadelta", {"lr": 2.0, "weight_decay": 0.1}),
    ("adadelta_maximize", "Adadelta", {"maximize": True}),
]

INIT = [0.5, -0.3, 0.8, 0.2]
DATA = [((0.5, 1.2), 0.7), ((-1.0, 0.3), -0.2), ((2.0, -0.7), 1.1)]


def loss_fn(w, zero_term: bool):
    """A nonlinear loss that works on Scalars and on torch tensors alike.

    w[3] never enters it, so its gradient is 0: torch would leave a parameter
    without a gradient alone, so the torch side adds 0 * w[3] to get a zero
    gradient, which is what a scalargrad parameter outside the graph has.
    """
    total = w[0] * w[1] + 0.1 * (w[1] * w[2]).exp()
    for (x1, x2), t in DATA:
        total = total + (w[0] * x1 + w[1] * x2 + w[2].tanh() - t) ** 2
    if zero_term:
        total = total + 0.0 * w[3]
    return total


def same(a: float, b: float, rel_tol: float = REL_TOL, abs_tol: float = ABS_TOL) -> bool:
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return math.isclose(a, b, rel_tol=rel_tol, abs_tol=abs_tol)


def torch_kwargs(kwargs: dict) -> dict:
    out = dict(kwargs)
    if out.get("momentum", 0) is None:
        out["momentum"] = 0.0
    return out


def sg_groups(ps, groups):
    """Parameter groups over ``ps``: each spec is (start, stop, overrides)."""
    return [{"params": ps[a:b], **extra} for a, b, extra in groups]


def make_pair(opt_name: str, kwargs: dict, groups=None):
    ps = [Scalar(v) for v in INIT]
    ts = [torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in INIT]
    sg_cls, torch_cls = OPTIMIZERS[opt_name], getattr(torch.optim, opt_name)
    if groups is None:
        sg_opt, t_opt = sg_cls(ps, **kwargs), torch_cls(ts, **torch_kwargs(kwargs))
    else:
        sg_opt = sg_cls(sg_groups(ps, groups), **kwargs)
        t_opt = torch_cls(sg_groups(ts, groups), **torch_kwargs(kwargs))
    return ps, ts, sg_opt, t_opt


def train_step(ps, opt, create_graph: bool = False) -> None:
    opt.zero_grad()
    loss_fn(ps, zero_term=False).backward(create_graph=create_graph)
    opt.step()


def torch_step(ts, opt) -> None:
    opt.zero_grad()
    loss_fn(ts, zero_term=True).backward()
    opt.step()


def assert_params_match(ps, ts, step: int) -> None:
    for i, (p, t) in enumerate(zip(ps, ts)):
        assert type(p.data) is float
        assert same(p.data, t.item()), \
            f"step {step}, parameter {i}: scalargrad {p.data!r}, torch {t.item()!r}"


# --------------------------------------------------------------------------
# Updates against torch.
# --------------------------------------------------------------------------

@parameterized.expand(CONFIGS)
@needs_torch
def test_matches_torch_every_step(_name, opt_name, kwargs):
    ps, ts, sg_opt, t_opt = make_pair(opt_name, kwargs)
    for step in range(1, 9):
        train_step(ps, sg_opt)
        torch_step(ts, t_opt)
        assert_params_match(ps, ts, step)
    # The parameter outside the loss moved only where torch moves a zero-grad parameter.
    assert same(ps[3].data, ts[3].item())


GROUP_CONFIGS = [
    ("sgd", "SGD", {"lr": 0.05, "momentum": 0.9},
     [(0, 2, {"lr": 0.01}), (2, 4, {"lr": 0.1, "weight_decay": 0.1, "nesterov": True})]),
    ("adam", "Adam", {"lr": 0.05},
     [(0, 1, {"lr": 0.2, "amsgrad": True}), (1, 4, {"betas": (0.8, 0.99), "weight_decay": 0.05})]),
    ("adamw", "AdamW", {"lr": 0.05}, [(0, 3, {}), (3, 4, {"lr": 0.01, "weight_decay": 0.5})]),
    ("rmsprop", "RMSprop", {"lr": 0.01},
     [(0, 2, {"centered": True}), (2, 4, {"lr": 0.03, "momentum": 0.9})]),
    ("adagrad", "Adagrad", {"lr": 0.1}, [(0, 2, {"lr_decay": 0.1}), (2, 4, {"lr": 0.3})]),
    ("adadelta", "Adadelta", {}, [(0, 2, {"lr": 0.5}), (2, 4, {"rho": 0.7})]),
]


@parameterized.expand(GROUP_CONFIGS)
@needs_torch
def test_param_groups_match_torch(_name, opt_name, kwargs, groups):
    ps, ts, sg_opt, t_opt = make_pair(opt_name, kwargs, groups)
    assert len(sg_opt.param_groups) == 2
    for step in range(1, 7):
        train_step(ps, sg_opt)
        torch_step(ts, t_opt)
        assert_params_match(ps, ts, step)


@needs_torch
def test_adam_with_step_lr_matches_torch():
    ps, ts, sg_opt, t_opt = make_pair("Adam", {"lr": 0.1})
    sg_sched = StepLR(sg_opt, step_size=2, gamma=0.5)
    t_sched = torch.optim.lr_scheduler.StepLR(t_opt, step_size=2, gamma=0.5)
    for step in range(1, 9):
        train_step(ps, sg_opt)
        torch_step(ts, t_opt)
        sg_sched.step()
        t_sched.step()
        assert_params_match(ps, ts, step)


@parameterized.expand([(name, opt, kw) for name, opt, kw in CONFIGS if kw.get("amsgrad")])
def test_amsgrad_configs_exercise_the_running_maximum(_name, opt_name, kwargs):
    # Guards the torch comparison above: AMSGrad must change the path for these settings.
    paths = []
    for amsgrad in (False, True):
        ps = [Scalar(v) for v in INIT]
        opt = OPTIMIZERS[opt_name](ps, **{**kwargs, "amsgrad": amsgrad})
        for _ in range(8):
            train_step(ps, opt)
        paths.append([p.data for p in ps])
    assert max(abs(a - b) for a, b in zip(*paths)) > 1e-3


@parameterized.expand(CONFIGS)
def test_scalar_grads_from_create_graph_step_the_same(_name, opt_name, kwargs):
    # After backward(create_graph=True) each .grad is a Scalar; the optimizer reads its value.
    ps_float = [Scalar(v) for v in INIT]
    ps_graph = [Scalar(v) for v in INIT]
    opt_float = OPTIMIZERS[opt_name](ps_float, **kwargs)
    opt_graph = OPTIMIZERS[opt_name](ps_graph, **kwargs)
    for _ in range(4):
        train_step(ps_float, opt_float)
        train_step(ps_graph, opt_graph, create_graph=True)
        assert isinstance(ps_graph[0].grad, Scalar)
        for a, b in zip(ps_float, ps_graph):
            assert same(a.data, b.data, rel_tol=1e-13, abs_tol=1e-15)


# --------------------------------------------------------------------------
# Construction.
# --------------------------------------------------------------------------

def test_seed_api_plain_sgd():
    ps = [Scalar(1.0), Scalar(-2.0)]
    opt = SGD(parameters=ps, lr=0.1, momentum=None)
    ps[0].grad, ps[1].grad = 0.5, -1.0
    opt.step()
    assert ps[0].data == 1.0 - 0.1 * 0.5
    assert ps[1].data == -2.0 + 0.1 * 1.0
    assert opt.param_groups[0]["momentum"] == 0.0
    assert opt.state == {}


@parameterized.expand([(name,) for name in OPTIMIZERS])
def test_generators_accepted(opt_name):
    ps_list = [Scalar(v) for v in INIT]
    ps_gen = [Scalar(v) for v in INIT]
    kwargs = {"lr": 0.05}
    opt_list = OPTIMIZERS[opt_name](ps_list, **kwargs)
    opt_gen = OPTIMIZERS[opt_name]((p for p in ps_gen), **kwargs)
    assert opt_gen.param_groups[0]["params"] == ps_gen
    for _ in range(3):
        train_step(ps_list, opt_list)
        train_step(ps_gen, opt_gen)
    assert [p.data for p in ps_list] == [p.data for p in ps_gen]


def test_generator_inside_param_group():
    ps = [Scalar(v) for v in INIT]
    opt = Adam([{"params": iter(ps[:2]), "lr": 0.1}, {"params": (p for p in ps[2:])}])
    assert [len(g["params"]) for g in opt.param_groups] == [2, 2]
    assert [g["lr"] for g in opt.param_groups] == [0.1, 1e-3]


def test_zero_grad_resets_float_and_scalar_grads():
    ps = [Scalar(v) for v in INIT]
    opt = SGD(ps, lr=0.1)
    loss_fn(ps, zero_term=False).backward(create_graph=True)
    assert isinstance(ps[0].grad, Scalar)
    opt.zero_grad()
    assert all(type(p.grad) is float and p.grad == 0.0 for p in ps)


def test_step_with_closure_returns_loss():
    ps = [Scalar(v) for v in INIT]
    opt = SGD(ps, lr=0.1)

    def closure():
        opt.zero_grad()
        loss = loss_fn(ps, zero_term=False)
        loss.backward()
        return loss

    before = loss_fn(ps, zero_term=False).data
    loss = opt.step(closure)
    assert loss.data == before
    assert loss_fn(ps, zero_term=False).data < before


def test_lr_property():
    ps = [Scalar(v) for v in INIT]
    opt = SGD([{"params": ps[:2]}, {"params": ps[2:]}], lr=0.1)
    assert opt.lr == 0.1
    opt.lr = 0.02
    assert [g["lr"] for g in opt.param_groups] == [0.02, 0.02]
    opt.param_groups[1]["lr"] = 0.5
    with pytest.raises(ValueError, match="different lrs"):
        _ = opt.lr
    with pytest.raises(ValueError, match="lr must be positive, got -1"):
        opt.lr = -1
    assert [g["lr"] for g in opt.param_groups] == [0.02, 0.5]


def test_add_param_group_uses_defaults():
    ps = [Scalar(v) for v in INIT]
    opt = RMSprop(ps[:2], lr=0.01, momentum=0.5)
    opt.add_param_group({"params": ps[2:], "lr": 0.1})
    group = opt.param_groups[1]
    assert group["lr"] == 0.1
    assert group["momentum"] == 0.5
    assert group["params"] == ps[2:]


def test_repr_lists_groups():
    opt = SGD([Scalar(1.0)], lr=0.1, momentum=0.9)
    text = repr(opt)
    assert text.startswith("SGD (")
    assert "Parameter Group 0" in text
    assert "momentum: 0.9" in text


def _ps():
    return [Scalar(v) for v in INIT]


class _NotAScalar:
    pass


def _twice(arrange):
    """SGD over a parameter list that names the same Scalar twice."""
    return SGD(arrange(Scalar(1.0)), lr=0.1)


BAD_INPUTS = [
    ("sgd_negative_lr", lambda: SGD(_ps(), lr=-0.1), ValueError, "lr must be positive, got -0.1"),
    ("sgd_zero_lr", lambda: SGD(_ps(), lr=0.0), ValueError, "lr must be positive, got 0.0"),
    ("sgd_nan_lr", lambda: SGD(_ps(), lr=math.nan), ValueError, "lr must be positive"),
    ("sgd_inf_lr", lambda: SGD(_ps(), lr=math.inf), ValueError, "lr must be finite"),
    ("sgd_string_lr", lambda: SGD(_ps(), lr="0.1"), TypeError, "lr must be an int or float, got str"),
    ("sgd_negative_momentum", lambda: SGD(_ps(), lr=0.1, momentum=-0.5), ValueError,
     "momentum must be non-negative, got -0.5"),
    ("sgd_negative_weight_decay", lambda: SGD(_ps(), lr=0.1, weight_decay=-1e-3), ValueError,
     "weight_decay must be non-negative, got -0.001"),
    ("sgd_nesterov_no_momentum", lambda: SGD(_ps(), lr=0.1, nesterov=True), ValueError,
     "nesterov momentum requires a positive momentum"),
    ("sgd_nesterov_dampening", lambda: SGD(_ps(), lr=0.1, momentum=0.9, nesterov=True, dampening=0.1),
     ValueError, "zero dampening"),
    ("adam_negative_lr", lambda: Adam(_ps(), lr=-1e-3), ValueError, "lr must be positive, got -0.001"),
    ("adam_beta1_one", lambda: Adam(_ps(), betas=(1.0, 0.999)), ValueError,
     r"beta1 \(betas\[0\]\) must be in \[0, 1\), got 1.0"),
    ("adam_beta2_negative", lambda: Adam(_ps(), betas=(0.9, -0.1)), ValueError,
     r"beta2 \(betas\[1\]\) must be in \[0, 1\), got -0.1"),
    ("adam_betas_not_pair", lambda: Adam(_ps(), betas=(0.9,)), ValueError, "betas must be a pair"),
    ("adam_negative_eps", lambda: Adam(_ps(), eps=-1e-8), ValueError, "eps must be non-negative, got -1e-08"),
    ("adam_negative_weight_decay", lambda: Adam(_ps(), weight_decay=-0.1), ValueError,
     "weight_decay must be non-negative"),
    ("adam_amsgrad_not_bool", lambda: Adam(_ps(), amsgrad="yes"), TypeError, "amsgrad must be a bool"),
    ("adamw_negative_lr", lambda: AdamW(_ps(), lr=-0.1), ValueError, "lr must be positive, got -0.1"),
    ("adamw_bad_beta", lambda: AdamW(_ps(), betas=(0.9, 1.5)), ValueError, "beta2"),
    ("adamw_negative_weight_decay", lambda: AdamW(_ps(), weight_decay=-0.01), ValueError,
     "weight_decay must be non-negative"),
    ("rmsprop_negative_lr", lambda: RMSprop(_ps(), lr=-0.01), ValueError, "lr must be positive"),
    ("rmsprop_alpha", lambda: RMSprop(_ps(), alpha=1.5), ValueError, r"alpha must be in \[0, 1\], got 1.5"),
    ("rmsprop_negative_momentum", lambda: RMSprop(_ps(), momentum=-0.1), ValueError,
     "momentum must be non-negative"),
    ("rmsprop_negative_eps", lambda: RMSprop(_ps(), eps=-1.0), ValueError, "eps must be non-negative"),
    ("rmsprop_negative_weight_decay", lambda: RMSprop(_ps(), weight_decay=-1.0), ValueError,
     "weight_decay must be non-negative"),
    ("adagrad_negative_lr", lambda: Adagrad(_ps(), lr=-0.01), ValueError, "lr must be positive"),
    ("adagrad_negative_lr_decay", lambda: Adagrad(_ps(), lr_decay=-0.1), ValueError,
     "lr_decay must be non-negative"),
    ("adagrad_negative_accumulator", lambda: Adagrad(_ps(), initial_accumulator_value=-1), ValueError,
     "initial_accumulator_value must be non-negative"),
    ("adagrad_negative_eps", lambda: Adagrad(_ps(), eps=-1e-10), ValueError, "eps must be non-negative"),
    ("adagrad_negative_weight_decay", lambda: Adagrad(_ps(), weight_decay=-2), ValueError,
     "weight_decay must be non-negative"),
    ("adadelta_zero_lr", lambda: Adadelta(_ps(), lr=0), ValueError, "lr must be positive, got 0"),
    ("adadelta_rho", lambda: Adadelta(_ps(), rho=1.1), ValueError, r"rho must be in \[0, 1\]"),
    ("adadelta_negative_eps", lambda: Adadelta(_ps(), eps=-1e-6), ValueError, "eps must be non-negative"),
    ("adadelta_negative_weight_decay", lambda: Adadelta(_ps(), weight_decay=-0.1), ValueError,
     "weight_decay must be non-negative"),
    ("empty_list", lambda: SGD([], lr=0.1), ValueError, "empty parameter list"),
    ("empty_generator", lambda: Adam(p for p in []), ValueError, "empty parameter list"),
    ("float_in_params", lambda: SGD([Scalar(1.0), 2.0], lr=0.1), TypeError,
     "optimizer can only optimize Scalars, but parameter 1 is a float"),
    ("object_in_params", lambda: Adam([_NotAScalar()]), TypeError, "parameter 0 is a _NotAScalar"),
    ("single_scalar", lambda: SGD(Scalar(1.0), lr=0.1), TypeError, "got Scalar"),
    ("not_iterable", lambda: SGD(3, lr=0.1), TypeError, "got int"),
    ("set_of_params", lambda: SGD(set(_ps()), lr=0.1), TypeError, "not a set"),
    ("mixed_groups", lambda: SGD([Scalar(1.0), {"params": [Scalar(2.0)]}], lr=0.1), TypeError, "not a mix"),
    ("group_name_not_str", lambda: SGD([{"params": _ps(), "name": 3}], lr=0.1), TypeError,
     "name must be a str, got int"),
    ("group_without_params", lambda: SGD([{"lr": 0.1}], lr=0.1), ValueError, "has no 'params' entry"),
    ("group_unknown_key", lambda: SGD([{"params": _ps(), "lrr": 0.1}], lr=0.1), ValueError,
     "unknown hyperparameter 'lrr'"),
    ("group_bad_lr", lambda: SGD([{"params": _ps()[:2]}, {"params": _ps()[2:], "lr": -1.0}], lr=0.1),
     ValueError, r"lr must be positive, got -1.0 \(parameter group 1\)"),
    ("group_bad_momentum", lambda: Adam([{"params": _ps(), "betas": (2.0, 0.9)}]), ValueError,
     r"beta1 \(betas\[0\]\) must be in \[0, 1\), got 2.0 \(parameter group 0\)"),
    ("group_float_in_params", lambda: SGD([{"params": [Scalar(1.0), "w"]}], lr=0.1), TypeError,
     "parameter 1 .*is a str"),
    ("duplicate_parameter", lambda: _twice(lambda p: [p, p]), ValueError,
     "parameter 1 appears twice"),
    ("parameter_in_two_groups", lambda: _twice(lambda p: [{"params": [p]}, {"params": [p]}]),
     ValueError, "already appears in another parameter group"),
    ("non_leaf_parameter", lambda: SGD([Scalar(1.0) * 2.0], lr=0.1), ValueError, "not a leaf"),
]


@parameterized.expand(BAD_INPUTS)
def test_bad_input_raises(_name, make, exc, message):
    with pytest.raises(exc, match=message):
        make()


def test_bad_grad_type_raises():
    p = Scalar(1.0)
    opt = SGD([p], lr=0.1)
    p.grad = "oops"
    with pytest.raises(TypeError, match="grad must be a number or a Scalar, got str"):
        opt.step()


# --------------------------------------------------------------------------
# state_dict.
# --------------------------------------------------------------------------

def _json_round_trip(sd):
    text = json.dumps(sd)  # raises if anything is not JSON-able
    return json.loads(text)


@parameterized.expand(CONFIGS)
def test_state_dict_round_trip_continues_identically(_name, opt_name, kwargs):
    cls = OPTIMIZERS[opt_name]
    ps = [Scalar(v) for v in INIT]
    opt = cls(ps, **kwargs)
    for _ in range(8):
        train_step(ps, opt)
    uninterrupted = [p.data for p in ps]

    ps = [Scalar(v) for v in INIT]
    opt = cls(ps, **kwargs)
    for _ in range(3):
        train_step(ps, opt)
    saved = _json_round_trip(opt.state_dict())
    assert json.dumps(saved) == json.dumps(opt.state_dict())  # survives JSON unchanged
    values = [p.data for p in ps]

    ps2 = [Scalar(v) for v in values]
    opt2 = cls(ps2, **kwargs)
    opt2.load_state_dict(saved)
    assert json.dumps(opt2.state_dict()) == json.dumps(saved)
    for _ in range(5):
        train_step(ps2, opt2)
    resumed = [p.data for p in ps2]
    assert json.dumps(resumed) == json.dumps(uninterrupted)  # bit-identical, nan included


def test_state_dict_layout_like_torch():
    ps = [Scalar(v) for v in INIT]
    opt = Adam([{"params": ps[:1], "lr": 0.1}, {"params": ps[1:], "amsgrad": True}])
    train_step(ps, opt)
    sd = opt.state_dict()
    assert sorted(sd) == ["param_groups", "state"]
    assert [g["params"] for g in sd["param_groups"]] == [[0], [1, 2, 3]]
    assert sd["param_groups"][0]["lr"] == 0.1
    assert sd["param_groups"][1]["betas"] == [0.9, 0.999]
    assert list(sd["state"]) == ["0", "1", "2", "3"]
    assert sorted(sd["state"]["0"]) == ["exp_avg", "exp_avg_sq", "step"]
    assert sorted(sd["state"]["1"]) == ["exp_avg", "exp_avg_sq", "max_exp_avg_sq", "step"]
    assert sd["state"]["0"]["step"] == 1


@needs_torch
def test_state_dict_values_match_torch_state():
    ps, ts, sg_opt, t_opt = make_pair("Adam", {"lr": 0.05, "amsgrad": True})
    for _ in range(3):
        train_step(ps, sg_opt)
        torch_step(ts, t_opt)
    sg_state, t_state = sg_opt.state_dict()["state"], t_opt.state_dict()["state"]
    for i in range(len(INIT)):
        for key, value in sg_state[str(i)].items():
            assert same(float(value), t_state[i][key].item()), (i, key)


def test_state_dict_round_trip_with_groups_and_scheduler_lr():
    ps = [Scalar(v) for v in INIT]
    opt = RMSprop([{"params": ps[:2], "centered": True}, {"params": ps[2:], "momentum": 0.9}], lr=0.01)
    sched = CosineAnnealingLR(opt, T_max=2)
    for _ in range(2):
        train_step(ps, opt)
        sched.step()
    assert opt.param_groups[0]["lr"] == 0.0  # cosine reached eta_min: a saved lr may be 0
    saved = _json_round_trip(opt.state_dict())
    opt2 = RMSprop([{"params": [Scalar(1.0), Scalar(2.0)]}, {"params": [Scalar(3.0), Scalar(4.0)]}], lr=0.5)
    opt2.load_state_dict(saved)
    assert opt2.param_groups[0]["centered"] is True
    assert opt2.param_groups[1]["momentum"] == 0.9
    assert opt2.param_groups[0]["initial_lr"] == 0.01
    assert json.dumps(opt2.state_dict()) == json.dumps(saved)


def _adam_with_state():
    ps = [Scalar(v) for v in INIT]
    opt = Adam([{"params": ps[:2]}, {"params": ps[2:], "lr": 0.01}], lr=0.05)
    for _ in range(2):
        train_step(ps, opt)
    return ps, opt


def _mutated(change):
    def make(sd):
        sd = copy.deepcopy(sd)
        change(sd)
        return sd
    return make


def _set(path, value):
    def change(sd):
        target = sd
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value
    return change


def _delete(path):
    def change(sd):
        target = sd
        for key in path[:-1]:
            target = target[key]
        del target[path[-1]]
    return change


BAD_STATE_DICTS = [
    ("not_a_dict", lambda sd: [sd], TypeError, "state_dict must be a dict, got list"),
    ("missing_state", _mutated(_delete(["state"])), ValueError, r"missing \['state'\]"),
    ("extra_top_key", _mutated(_set(["extra"], 1)), ValueError, r"unexpected \['extra'\]"),
    ("groups_not_list", _mutated(_set(["param_groups"], {})), TypeError, "must be a list"),
    ("state_not_dict", _mutated(_set(["state"], [])), TypeError, "must be a dict"),
    ("one_group_missing", _mutated(lambda sd: sd["param_groups"].pop()), ValueError,
     "state_dict has 1 parameter groups, the optimizer has 2"),
    ("too_few_params", _mutated(lambda sd: sd["param_groups"][1]["params"].pop()), ValueError,
     r"param_groups\[1\] has 1 parameters, the optimizer's group 1 has 2"),
    ("params_not_ints", _mutated(_set(["param_groups", 0, "params"], ["a", "b"])), ValueError,
     "must be a list of ints"),
    ("repeated_index", _mutated(_set(["param_groups", 1, "params"], [1, 1])), ValueError,
     "repeats parameter index 1"),
    ("missing_hyperparameter", _mutated(_delete(["param_groups", 0, "betas"])), ValueError,
     r"param_groups\[0\] is missing 'betas'"),
    ("bad_lr", _mutated(_set(["param_groups", 0, "lr"], -0.5)), ValueError,
     r"lr must be non-negative, got -0.5 in param_groups\[0\]"),
    ("bad_betas", _mutated(_set(["param_groups", 1, "betas"], [0.9, 1.5])), ValueError, "beta2"),
    ("hyperparameter_not_plain", _mutated(_set(["param_groups", 0, "eps"], {"x": 1})), ValueError,
     "not plain data"),
    ("state_index_out_of_range", _mutated(_set(["state", "7"], {})), ValueError, "has key '7'"),
    ("state_key_not_index", _mutated(_set(["state", "abc"], {})), ValueError, "has key 'abc'"),
    ("state_index_twice", _mutated(lambda sd: sd["state"].update({0: sd["state"]["0"]})), ValueError,
     "parameter 0 twice"),
    ("state_missing_entry", _mutated(_delete(["state", "2", "exp_avg"])), ValueError,
     r"state_dict\['state'\]\['2'\] must have the keys .*missing \['exp_avg'\]"),
    ("state_extra_entry", _mutated(_set(["state", "1", "momentum_buffer"], 0.0)), ValueError,
     r"unexpected \['momentum_buffer'\]"),
    ("state_entry_not_dict", _mutated(_set(["state", "0"], [1.0])), TypeError, "must be a dict, got list"),
    ("state_value_not_number", _mutated(_set(["state", "3", "exp_avg"], "0.1")), TypeError,
     "must be a number, got str"),
    ("state_negative_step", _mutated(_set(["state", "0", "step"], -1)), ValueError,
     "step'] must be a non-negative whole number"),
    ("state_fractional_step", _mutated(_set(["state", "0", "step"], 1.5)), ValueError,
     "non-negative whole number"),
]


@parameterized.expand(BAD_STATE_DICTS)
def test_bad_state_dict_raises_and_changes_nothing(_name, make_bad, exc, message):
    ps, opt = _adam_with_state()
    before = json.dumps(opt.state_dict())
    values = [p.data for p in ps]
    bad = make_bad(_json_round_trip(opt.state_dict()))
    with pytest.raises(exc, match=message):
        opt.load_state_dict(bad)
    assert json.dumps(opt.state_dict()) == before
    assert [p.data for p in ps] == values
    train_step(ps, opt)  # still usable


def test_load_state_dict_accepts_int_keys_and_float_step():
    _, opt = _adam_with_state()
    sd = opt.state_dict()
    sd["state"] = {int(k): dict(v, step=float(v["step"])) for k, v in sd["state"].items()}
    opt.load_state_dict(sd)
    assert opt.state_dict()["state"]["0"]["step"] == 2


@parameterized.expand([
    ("sgd_momentum_off", SGD, {"lr": 0.1, "momentum": 0.9}, "momentum", 0.0),
    ("sgd_momentum_on", SGD, {"lr": 0.1}, "momentum", 0.9),
    ("adam_amsgrad_off", Adam, {"lr": 0.1, "amsgrad": True}, "amsgrad", False),
    ("adam_amsgrad_on", Adam, {"lr": 0.1}, "amsgrad", True),
    ("rmsprop_centered_on", RMSprop, {"lr": 0.01}, "centered", True),
    ("rmsprop_momentum_off", RMSprop, {"lr": 0.01, "momentum": 0.5}, "momentum", 0.0),
])
def test_switching_a_setting_mid_training_keeps_state_loadable(_name, cls, kwargs, key, value):
    ps = [Scalar(v) for v in INIT]
    opt = cls(ps, **kwargs)
    train_step(ps, opt)
    opt.param_groups[0][key] = value
    for _ in range(2):
        train_step(ps, opt)
    saved = _json_round_trip(opt.state_dict())
    opt2 = cls([Scalar(p.data) for p in ps], **kwargs)
    opt2.load_state_dict(saved)
    assert opt2.param_groups[0][key] == value
    assert json.dumps(opt2.state_dict()) == json.dumps(saved)


def test_load_state_dict_without_state_for_unstepped_parameters():
    ps = [Scalar(v) for v in INIT]
    opt = Adam(ps)
    opt.load_state_dict(_json_round_trip(opt.state_dict()))
    assert opt.state == {}
    train_step(ps, opt)
    assert len(opt.state) == 4


# --------------------------------------------------------------------------
# Schedulers against torch.
# --------------------------------------------------------------------------

def make_sched_pair(make_sg, make_torch, lrs=(0.1, 0.03)):
    ps = [Scalar(1.0), Scalar(2.0)]
    sg_opt = SGD([{"params": [ps[0]], "lr": lrs[0]}, {"params": [ps[1]], "lr": lrs[1]}], lr=lrs[0])
    ts = [torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in (1.0, 2.0)]
    t_opt = torch.optim.SGD([{"params": [ts[0]], "lr": lrs[0]}, {"params": [ts[1]], "lr": lrs[1]}], lr=lrs[0])
    return sg_opt, make_sg(sg_opt), t_opt, make_torch(t_opt)


def assert_lrs_match(sg_sched, t_sched, epoch) -> None:
    sg_lrs, t_lrs = sg_sched.get_last_lr(), [float(v) for v in t_sched.get_last_lr()]
    assert len(sg_lrs) == len(t_lrs)
    for a, b in zip(sg_lrs, t_lrs):
        assert same(a, b, rel_tol=1e-12, abs_tol=1e-15), f"epoch {epoch}: scalargrad {sg_lrs}, torch {t_lrs}"
    assert [g["lr"] for g in sg_sched.optimizer.param_groups] == sg_lrs


SCHEDULERS = [
    ("step_lr", lambda o: StepLR(o, step_size=3, gamma=0.5),
     lambda o: torch.optim.lr_scheduler.StepLR(o, step_size=3, gamma=0.5), 30),
    ("step_lr_every_epoch", lambda o: StepLR(o, step_size=1),
     lambda o: torch.optim.lr_scheduler.StepLR(o, step_size=1), 12),
    ("exponential_lr", lambda o: ExponentialLR(o, gamma=0.9),
     lambda o: torch.optim.lr_scheduler.ExponentialLR(o, gamma=0.9), 40),
    ("cosine", lambda o: CosineAnnealingLR(o, T_max=10),
     lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=10), 45),
    ("cosine_eta_min", lambda o: CosineAnnealingLR(o, T_max=7, eta_min=0.001),
     lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=7, eta_min=0.001), 40),
    ("cosine_t_max_1", lambda o: CosineAnnealingLR(o, T_max=1, eta_min=0.01),
     lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=1, eta_min=0.01), 8),
]


@parameterized.expand(SCHEDULERS)
@needs_torch
def test_scheduler_matches_torch(_name, make_sg, make_torch, epochs):
    sg_opt, sg_sched, t_opt, t_sched = make_sched_pair(make_sg, make_torch)
    assert_lrs_match(sg_sched, t_sched, 0)
    assert sg_sched.last_epoch == t_sched.last_epoch == 0
    for epoch in range(1, epochs + 1):
        sg_opt.step()
        t_opt.step()
        sg_sched.step()
        t_sched.step()
        assert_lrs_match(sg_sched, t_sched, epoch)
        assert sg_sched.last_epoch == t_sched.last_epoch


@parameterized.expand([
    ("step_lr", lambda o: StepLR(o, step_size=3, gamma=0.5, last_epoch=4),
     lambda o: torch.optim.lr_scheduler.StepLR(o, step_size=3, gamma=0.5, last_epoch=4)),
    ("exponential", lambda o: ExponentialLR(o, gamma=0.8, last_epoch=2),
     lambda o: torch.optim.lr_scheduler.ExponentialLR(o, gamma=0.8, last_epoch=2)),
    ("cosine", lambda o: CosineAnnealingLR(o, T_max=6, last_epoch=3),
     lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=6, last_epoch=3)),
])
@needs_torch
def test_scheduler_resumed_with_last_epoch_matches_torch(_name, make_sg, make_torch):
    def with_initial_lr(make):
        def wrapped(opt):
            for g in opt.param_groups:
                g["initial_lr"] = g["lr"] * 2
            return make(opt)
        return wrapped

    sg_opt, sg_sched, t_opt, t_sched = make_sched_pair(with_initial_lr(make_sg), with_initial_lr(make_torch))
    assert_lrs_match(sg_sched, t_sched, 0)
    for epoch in range(1, 15):
        sg_opt.step()
        t_opt.step()
        sg_sched.step()
        t_sched.step()
        assert_lrs_match(sg_sched, t_sched, epoch)


METRICS = [1.0, 0.9, 0.9, 0.95, 0.91, 0.9, 0.89995, 0.8, 0.85, 0.85, 0.85, 0.85, 0.85, 0.7, 0.7001,
           0.7, 0.71, 0.72, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6, 0.65, 0.5, 0.55, 0.55, 0.55, 0.55, 0.4,
           0.45, 0.45, 0.45, 0.45, 0.45, 0.45, 0.45, 0.45]

PLATEAU_CONFIGS = [
    ("default", {}),
    ("patience_2", {"patience": 2}),
    ("patience_0", {"patience": 0, "factor": 0.5}),
    ("max_mode", {"mode": "max", "patience": 1}),
    ("abs_threshold", {"threshold_mode": "abs", "threshold": 0.02, "patience": 1}),
    ("max_abs", {"mode": "max", "threshold_mode": "abs", "threshold": 0.01, "patience": 2}),
    ("cooldown", {"patience": 1, "cooldown": 2, "factor": 0.5}),
    ("min_lr", {"patience": 0, "factor": 0.5, "min_lr": 0.01}),
    ("min_lr_per_group", {"patience": 0, "factor": 0.5, "min_lr": [0.02, 0.001]}),
    ("large_eps", {"patience": 0, "factor": 0.9, "eps": 0.005}),
]


@parameterized.expand(PLATEAU_CONFIGS)
@needs_torch
def test_reduce_lr_on_plateau_matches_torch(_name, kwargs):
    _, sg_sched, _, t_sched = make_sched_pair(
        lambda o: ReduceLROnPlateau(o, **kwargs),
        lambda o: torch.optim.lr_scheduler.ReduceLROnPlateau(o, **kwargs))
    assert_lrs_match(sg_sched, t_sched, 0)
    for epoch, metric in enumerate(METRICS, 1):
        sg_sched.step(metric)
        t_sched.step(metric)
        assert_lrs_match(sg_sched, t_sched, epoch)
        assert sg_sched.num_bad_epochs == t_sched.num_bad_epochs
        assert sg_sched.cooldown_counter == t_sched.cooldown_counter
        assert sg_sched.best == t_sched.best
        assert sg_sched.last_epoch == t_sched.last_epoch


def test_reduce_lr_on_plateau_takes_a_scalar_metric():
    opt = SGD([Scalar(1.0)], lr=0.1)
    sched = ReduceLROnPlateau(opt, patience=0, factor=0.5)
    sched.step(Scalar(1.0))
    sched.step(Scalar(2.0))
    assert sched.get_last_lr() == [0.05]
    with pytest.raises(TypeError, match="metric must be a number or a Scalar, got str"):
        sched.step("low")


# --------------------------------------------------------------------------
# Scheduler state dicts and bad input.
# --------------------------------------------------------------------------

SCHED_MAKERS = [
    ("step_lr", lambda o: StepLR(o, step_size=3, gamma=0.5), None),
    ("exponential_lr", lambda o: ExponentialLR(o, gamma=0.9), None),
    ("cosine", lambda o: CosineAnnealingLR(o, T_max=5, eta_min=0.001), None),
    ("plateau", lambda o: ReduceLROnPlateau(o, patience=1, cooldown=1, factor=0.5), METRICS),
]


def _advance(opt, sched, metrics, epochs, start=0):
    lrs = []
    for epoch in range(start, start + epochs):
        opt.step()
        if metrics is None:
            sched.step()
        else:
            sched.step(metrics[epoch])
        lrs.append(sched.get_last_lr())
    return lrs


def _sched_opt():
    ps = [Scalar(1.0), Scalar(2.0)]
    return SGD([{"params": [ps[0]]}, {"params": [ps[1]], "lr": 0.03}], lr=0.1, momentum=0.9)


@parameterized.expand(SCHED_MAKERS)
def test_scheduler_state_dict_round_trip(_name, make, metrics):
    opt = _sched_opt()
    sched = make(opt)
    uninterrupted = _advance(opt, sched, metrics, 20)

    opt = _sched_opt()
    sched = make(opt)
    first = _advance(opt, sched, metrics, 8)
    opt_sd = _json_round_trip(opt.state_dict())
    sched_sd = _json_round_trip(sched.state_dict())
    assert json.dumps(sched_sd) == json.dumps(sched.state_dict())

    # torch's recommended order: scheduler first, then the optimizer's state, then the scheduler's.
    opt2 = _sched_opt()
    sched2 = make(opt2)
    opt2.load_state_dict(opt_sd)
    sched2.load_state_dict(sched_sd)
    assert sched2.get_last_lr() == sched.get_last_lr()
    rest = _advance(opt2, sched2, metrics, 12, start=8)
    assert first + rest == uninterrupted


@parameterized.expand([
    ("missing_key", lambda sd: {k: v for k, v in sd.items() if k != "last_epoch"}, ValueError,
     r"missing \['last_epoch'\]"),
    ("extra_key", lambda sd: {**sd, "bogus": 1}, ValueError, r"unexpected \['bogus'\]"),
    ("short_base_lrs", lambda sd: {**sd, "base_lrs": [0.1]}, ValueError, "must be a list of 2 numbers"),
    ("string_gamma", lambda sd: {**sd, "gamma": "0.5"}, TypeError, "gamma'] must be an int or float"),
    ("zero_step_size", lambda sd: {**sd, "step_size": 0}, ValueError, "step_size'] must be >= 1"),
    ("not_a_dict", lambda sd: list(sd), TypeError, "must be a dict"),
])
def test_bad_scheduler_state_dict_raises_and_changes_nothing(_name, make_bad, exc, message):
    opt = _sched_opt()
    sched = StepLR(opt, step_size=2)
    _advance(opt, sched, None, 3)
    before = json.dumps(sched.state_dict())
    with pytest.raises(exc, match=message):
        sched.load_state_dict(make_bad(sched.state_dict()))
    assert json.dumps(sched.state_dict()) == before


def test_plateau_bad_state_dict():
    opt = _sched_opt()
    sched = ReduceLROnPlateau(opt)
    sd = sched.state_dict()
    with pytest.raises(ValueError, match="mode must be 'min' or 'max', got 'avg'"):
        sched.load_state_dict({**sd, "mode": "avg"})
    with pytest.raises(ValueError, match=r"min_lrs'\] must be a list of 2 numbers"):
        sched.load_state_dict({**sd, "min_lrs": [0.0]})
    assert sched.state_dict() == sd


BAD_SCHEDULER_INPUTS = [
    ("not_an_optimizer", lambda o: StepLR("sgd", step_size=1), TypeError,
     "needs a scalargrad Optimizer, got str"),
    ("step_size_zero", lambda o: StepLR(o, step_size=0), ValueError, "step_size must be >= 1, got 0"),
    ("step_size_float", lambda o: StepLR(o, step_size=2.5), TypeError, "step_size must be an int, got float"),
    ("gamma_string", lambda o: ExponentialLR(o, gamma="0.9"), TypeError,
     "gamma must be an int or float, got str"),
    ("t_max_zero", lambda o: CosineAnnealingLR(o, T_max=0), ValueError, "T_max must be >= 1, got 0"),
    ("eta_min_negative", lambda o: CosineAnnealingLR(o, T_max=5, eta_min=-0.1), ValueError,
     "eta_min must be non-negative"),
    ("resume_without_initial_lr", lambda o: StepLR(o, step_size=2, last_epoch=3), ValueError,
     "parameter group 0 has no 'initial_lr'"),
    ("plateau_mode", lambda o: ReduceLROnPlateau(o, mode="avg"), ValueError, "mode must be 'min' or 'max'"),
    ("plateau_threshold_mode", lambda o: ReduceLROnPlateau(o, threshold_mode="pct"), ValueError,
     "threshold_mode must be 'rel' or 'abs'"),
    ("plateau_factor_one", lambda o: ReduceLROnPlateau(o, factor=1.0), ValueError,
     r"factor must be in \[0, 1\)"),
    ("plateau_negative_patience", lambda o: ReduceLROnPlateau(o, patience=-1), ValueError,
     "patience must be >= 0"),
    ("plateau_negative_cooldown", lambda o: ReduceLROnPlateau(o, cooldown=-2), ValueError,
     "cooldown must be >= 0"),
    ("plateau_min_lr_list_length", lambda o: ReduceLROnPlateau(o, min_lr=[0.1]), ValueError,
     "expected 2 min_lrs"),
    ("plateau_negative_min_lr", lambda o: ReduceLROnPlateau(o, min_lr=-0.1), ValueError,
     "min_lr must be non-negative"),
    ("plateau_negative_threshold", lambda o: ReduceLROnPlateau(o, threshold=-1e-4), ValueError,
     "threshold must be non-negative"),
]


@parameterized.expand(BAD_SCHEDULER_INPUTS)
def test_bad_scheduler_input_raises(_name, make, exc, message):
    opt = _sched_opt()
    with pytest.raises(exc, match=message):
        make(opt)
    assert [g["lr"] for g in opt.param_groups] == [0.1, 0.03]


def test_base_classes_are_exported_and_abstract():
    assert issubclass(StepLR, LRScheduler)
    assert issubclass(ReduceLROnPlateau, LRScheduler)
    assert issubclass(AdamW, Optimizer)
    with pytest.raises(NotImplementedError):
        LRScheduler(_sched_opt())
    opt = Optimizer([Scalar(1.0)], {"lr": 0.1})
    with pytest.raises(NotImplementedError):
        opt.step()


# ---- matching a saved state to parameters by name (Trainer.resume) ---------------------------------------


def _stepped_adam():
    """Adam over a, b, c after one step in which b had no gradient (so b has no state)."""
    a, b, c = Scalar(1.0), Scalar(2.0), Scalar(3.0)
    opt = Adam([a, b, c], lr=0.1)
    a.grad, b.grad, c.grad = 0.5, None, -0.25
    opt.step()
    return opt, (a, b, c)


def test_reorder_state_dict_gives_each_parameter_its_own_state():
    opt, (a, b, c) = _stepped_adam()
    saved = json.loads(json.dumps(opt.state_dict()))
    fresh = Adam([c, a, b], lr=0.1)  # the same parameters in another order (a rotation, not its own inverse)
    fresh.load_state_dict(reorder_state_dict(saved, [["a", "b", "c"]], [["c", "a", "b"]]))
    by_parameter = {id(p): entry for p, entry in opt.state.items()}
    assert {id(p): entry for p, entry in fresh.state.items()} == by_parameter
    assert b not in fresh.state
    assert [id(p) for p in fresh.param_groups[0]["params"]] == [id(c), id(a), id(b)]


def test_reorder_state_dict_refuses_groups_holding_other_parameters():
    opt, _ = _stepped_adam()
    refusal = (r"saved parameter group 0 holds other parameters than the optimizer's group 0: "
               r"only in the saved one \['c'\], only in the optimizer's \['d'\]")
    with pytest.raises(ValueError, match=refusal):
        reorder_state_dict(opt.state_dict(), [["a", "b", "c"]], [["a", "b", "d"]])
    with pytest.raises(ValueError, match="names of group 0 are 2, the state dict's group 0 has 3"):
        reorder_state_dict(opt.state_dict(), [["a", "b"]], [["a", "b"]])


@pytest.mark.parametrize("bad", [
    [], {"state": {}}, {"state": {}, "param_groups": [{"params": [0, 0, 1]}]},
    {"state": {"9": {}}, "param_groups": [{"params": [0, 1, 2]}]},
    {"state": {}, "param_groups": [{"params": [0, 1, 2]}, {"params": []}]},
])
def test_reorder_state_dict_leaves_a_malformed_state_for_load_state_dict_to_name(bad):
    assert reorder_state_dict(bad, [["a", "b", "c"]], [["c", "a", "b"]]) is bad
