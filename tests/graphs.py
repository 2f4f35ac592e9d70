"""What the picture tests share (no torch, no Pillow): the graphs they draw, the README's quickstart and a
long chain, and the ``dot_program`` fixture (tests/conftest.py makes it available to every test)."""

import os
import shutil

import pytest

from scalargrad import Scalar


@pytest.fixture
def dot_program():
    """Skip without ``dot`` on a developer machine; in CI (which installs it) a missing ``dot`` fails."""
    if shutil.which("dot") is None:
        if os.environ.get("CI"):
            pytest.fail("the Graphviz 'dot' program is missing in CI: .ci/run must apt-get install graphviz")
        pytest.skip("the Graphviz 'dot' program is not installed")


def quickstart():
    """The README's ``f = x0*w0 + x1*w1 + b``, after ``backward()``."""
    x0, x1 = Scalar(0.1, name="x0"), Scalar(0.2, name="x1")
    w0, w1, b = Scalar(0.3, name="w0"), Scalar(0.4, name="w1"), Scalar(0.5, name="b")
    f = (x0 * w0) + (x1 * w1) + b
    f.backward()
    return f


def chain(n):
    """``y = y * 1.0001 + x`` ``n`` times: 2n + 1 values, a path 2n deep."""
    x = Scalar(0.5, name="x")
    y = x
    for _ in range(n):
        y = y * 1.0001 + x
    return y
