"""Shared helpers: torch float64 references and a nan/inf-aware comparison.

The test modules import this as ``tests.helpers`` (run from the repository
root, as pytest and unittest both are, ``tests`` is a package).
"""

import math

import torch

from scalargrad.scalar import Scalar

# Gradients must match PyTorch float64 tightly: the same formulas in the same
# precision differ only by a few rounding steps.
REL_TOL = 1e-9
ABS_TOL = 0.0


def tt(value):
    """A torch float64 leaf tensor that requires grad (a number or nested lists)."""
    return torch.tensor(value, dtype=torch.float64, requires_grad=True)


def as_float(value) -> float:
    """A float from a torch tensor, a Scalar, a number or None (torch's "no gradient" = 0)."""
    if value is None:
        return 0.0
    if isinstance(value, torch.Tensor):
        return value.item()
    if isinstance(value, Scalar):
        return value.data
    return float(value)


def same_float(actual: float, expected: float, rel_tol: float = REL_TOL, abs_tol: float = ABS_TOL) -> bool:
    """nan equals nan, inf equals inf of the same sign, otherwise math.isclose."""
    if math.isnan(actual) or math.isnan(expected):
        return math.isnan(actual) and math.isnan(expected)
    if math.isinf(actual) or math.isinf(expected):
        return actual == expected
    return math.isclose(actual, expected, rel_tol=rel_tol, abs_tol=abs_tol)


def assert_close(actual, expected, what: str = "value", rel_tol: float = REL_TOL, abs_tol: float = ABS_TOL):
    """Assert that a scalargrad float equals a torch (or plain) value; actual must be a float."""
    assert type(actual) is float, f"{what}: expected a float, got {type(actual).__name__} {actual!r}"
    expected = as_float(expected)
    assert same_float(actual, expected, rel_tol, abs_tol), (
        f"{what}: scalargrad gives {actual!r}, torch gives {expected!r}"
    )


def check_against_torch(sg_fn, torch_fn, values, rel_tol: float = REL_TOL, abs_tol: float = ABS_TOL):
    """Run ``sg_fn`` on Scalars and ``torch_fn`` on float64 tensors made from ``values``;
    compare the output value and the gradient of every input."""
    xs = [Scalar(v) for v in values]
    y = sg_fn(*xs)
    y.backward()

    ts = [tt(v) for v in values]
    ty = torch_fn(*ts)
    ty.backward()

    assert_close(y.data, ty, "value", rel_tol, abs_tol)
    for i, (x, t) in enumerate(zip(xs, ts)):
        assert_close(x.grad, t.grad, f"grad of input {i}", rel_tol, abs_tol)
    return y, xs


def flat(x):
    """Row-major list of the leaves of nested lists."""
    if isinstance(x, (list, tuple)):
        return [v for item in x for v in flat(item)]
    return [x]


def data(x):
    """The floats of (nested lists of) Scalars and numbers, flattened."""
    return [v.data if isinstance(v, Scalar) else v for v in flat(x)]


def scalars(values):
    """Nested lists of numbers as the same nesting of Scalars."""
    if isinstance(values, (list, tuple)):
        return [scalars(v) for v in values]
    return Scalar(values)


def all_close(actual, expected, what, rel_tol=REL_TOL, abs_tol=ABS_TOL):
    """Floats (or Scalars' data) against a tensor / nested list, element by element."""
    actual = data(actual)
    expected = expected.detach().flatten().tolist() if isinstance(expected, torch.Tensor) else flat(expected)
    assert len(actual) == len(expected), f"{what}: {len(actual)} values, torch has {len(expected)}"
    for i, (a, e) in enumerate(zip(actual, expected)):
        assert_close(a, e, f"{what}[{i}]", rel_tol, abs_tol)


def grads_close(params, torch_grad, what, rel_tol=REL_TOL, abs_tol=ABS_TOL):
    """The ``.grad`` of (nested lists of) Scalars against torch's gradient (None: all zero)."""
    actual = [p.grad for p in flat(params)]
    expected = torch.zeros(len(actual)) if torch_grad is None else torch_grad
    all_close(actual, expected, what, rel_tol, abs_tol)


def with_tolerances(check, rel_tol, abs_tol):
    """``check`` with other default tolerances; callers may still pass ``rel=`` / ``abs_=``."""
    def checked(*args, rel=rel_tol, abs_=abs_tol):
        return check(*args, rel_tol=rel, abs_tol=abs_)
    return checked
