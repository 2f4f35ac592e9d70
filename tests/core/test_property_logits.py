"""Property-based tests: log-softmax and cross-entropy over logits of any size, against PyTorch float64.

Hypothesis draws logits anywhere from -1e308 to 1e308, with ``-inf``
entries (masked classes), and a target class whose logit is finite. The
values and gradients of ``functional.log_softmax`` (through a weighted sum)
and of ``CrossEntropyLoss`` (with and without label smoothing) must match
torch's. Settings come from the profiles in ``tests/conftest.py``.

One place where torch is not the reference: with label smoothing, torch adds
the K log-probabilities up in float64, and that sum can overflow to inf when
the loss itself is finite (logits ``[0, 0, 1e308]``: two terms of -1e308).
The loss is compared there against the same formula worked out exactly, in
fractions, on torch's own per-class log-probabilities.
"""

import math
from fractions import Fraction

import torch
from hypothesis import assume, given
from hypothesis import strategies as st

from scalargrad import Scalar
from scalargrad import functional as F
from scalargrad.nn import CrossEntropyLoss
from tests.helpers import same_float, tt

REL, ABS = 1e-9, 1e-12  # gradients are probabilities (at most 1): an absolute floor for cancelling sums

magnitudes = st.sampled_from([1.0, 1e3, 1e10, 1e12, 1e16, 1e100, 1e300, 1e308])
finite_logit = st.builds(lambda u, m: u * m, st.floats(-1.0, 1.0), magnitudes)
logit = st.one_of(finite_logit, finite_logit, finite_logit, st.just(-math.inf))


@st.composite
def cases(draw):
    logits = draw(st.lists(logit, min_size=2, max_size=6))
    finite = [i for i, v in enumerate(logits) if math.isfinite(v)]
    assume(finite)
    target = draw(st.sampled_from(finite))
    weights = draw(st.lists(st.floats(-2.0, 2.0), min_size=len(logits), max_size=len(logits)))
    return logits, target, weights


def close(actual, expected):
    return same_float(actual, expected, REL, ABS)


def exact_smoothed_cross_entropy(log_probs, target, smoothing):
    """(1 - s) * -log p[target] + s/K * sum(-log p): torch's formula, added up in exact fractions.

    Each log-probability is finite here (smoothing is only drawn for finite logits); only the
    final rounding to a float can overflow, to inf as float64 arithmetic would.
    """
    s = Fraction(smoothing)
    total = (1 - s) * -Fraction(log_probs[target]) + s / len(log_probs) * -sum(map(Fraction, log_probs))
    try:
        return float(total)
    except OverflowError:
        return math.inf


@given(cases())
def test_log_softmax_matches_torch(case):
    logits, _, weights = case
    xs = [Scalar(v) for v in logits]
    out = F.log_softmax(xs)
    t = tt(logits)
    expected = torch.log_softmax(t, 0)
    assert all(close(o.data, e) for o, e in zip(out, expected.tolist())), (logits, [o.data for o in out])
    # the gradient of a weighted sum over the classes that are not masked (-inf * 0 would be nan)
    kept = [w if math.isfinite(v) else 0.0 for w, v in zip(weights, logits)]
    F.dot([o for o, v in zip(out, logits) if math.isfinite(v)], [w for w, v in zip(kept, logits)
                                                                   if math.isfinite(v)]).backward()
    (expected[torch.isfinite(t)] * tt(kept)[torch.isfinite(t)]).sum().backward()
    assert all(close(x.grad, g) for x, g in zip(xs, t.grad.tolist())), (logits, [x.grad for x in xs])


@given(cases(), st.sampled_from([0.0, 0.1]))
def test_cross_entropy_matches_torch(case, smoothing):
    logits, target, _ = case
    # smoothing puts weight on masked classes
    assume(smoothing == 0.0 or all(math.isfinite(v) for v in logits))
    xs = [Scalar(v) for v in logits]
    loss = CrossEntropyLoss(label_smoothing=smoothing)([xs], [target])
    loss.backward()
    t = tt(logits)
    expected = torch.nn.functional.cross_entropy(t[None], torch.tensor([target]), label_smoothing=smoothing)
    expected.backward()
    reference = expected.item()
    if smoothing and math.isinf(reference):  # torch's sum overflowed: see the module's docstring
        reference = exact_smoothed_cross_entropy(torch.log_softmax(t, 0).tolist(), target, smoothing)
    assert close(loss.data, reference), (logits, target, loss.data, expected.item(), reference)
    assert all(close(x.grad, g) for x, g in zip(xs, t.grad.tolist())), (logits, [x.grad for x in xs])
