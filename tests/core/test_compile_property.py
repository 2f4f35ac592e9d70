"""Compiled graphs on Hypothesis-drawn programs: the same bits as Replay, for every op mixed with every other.

The programs are test_property_graphs' (up to 50 ops over 1-6 leaves, sub-expressions
shared). The first leaf is the fed input, the others are parameters. The graph is built
at the drawn values and run at them by a Replay and by the compiled function; programs
that Replay refuses (a dot mixing Scalars and numbers, an input no op reads) are skipped.
"""


import pytest
from hypothesis import assume, given

from scalargrad.compile import CompiledGraph
from scalargrad.replay import Replay
from scalargrad.scalar import Scalar
from tests.bits import equal_up_to_sum_rounding
from tests.core.test_property_graphs import SCALAR_OPS, describe, programs, run


@given(programs())
def test_random_graphs_compile_to_the_same_bits_as_replay(program):
    leaves = [Scalar(v) for v in program.leaves]
    try:
        replay = Replay(lambda: program.output(run(program.steps, leaves, SCALAR_OPS), on_torch=False),
                        leaves[:1])
    except ValueError as refused:  # a dot mixing Scalars and numbers, or an input left unread: Replay refuses
        assume(False)
        pytest.fail(str(refused))
    compiled = CompiledGraph(replay)
    params = leaves[1:]
    for p in params:
        p.grad = 0.0
    out = compiled(program.leaves[:1])
    grads = [p.grad for p in params]
    for p in params:
        p.grad = 0.0
    expected = replay.forward(program.leaves[:1])
    replay.backward()
    where = f"program:\n{describe(program)}\nsource:\n{compiled.source}"
    assert equal_up_to_sum_rounding(out, expected), (out, expected, where)
    assert all(equal_up_to_sum_rounding(g, p.grad) for g, p in zip(grads, params)), \
        ([(g, p.grad) for g, p in zip(grads, params)], where)
