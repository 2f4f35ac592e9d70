"""The compile benchmarks at their smallest sizes: the compiled step agrees with Replay (times are not
tested).

``benchmarks/bench_compile.py`` checks a compiled call's output and every
parameter's gradient against its Replay's; ``benchmarks/bench_train.py``'s
column (g) trains through a compiled step and is checked against scalargrad's
rebuilt graph (1e-9) and against replay (bit for bit where the compiled code
sums as the eager graph does: CPython up to 3.11, and PyPy).
"""

import contextlib
import io
import platform
import sys

from parameterized import parameterized

from benchmarks import bench_compile, bench_train

SAME_BITS = sys.version_info < (3, 12) or platform.python_implementation() == "PyPy"


@parameterized.expand([("chain", "fast"), ("chain", "readable"), ("W1", "fast"), ("W2", "fast")])
def test_a_compiled_call_gives_the_replays_output_and_gradients(name, form):
    graph = bench_compile.make_graph(name, nodes=60)
    row = bench_compile.measure(graph, form, calls=1)
    assert row.worst_rel <= bench_train.REL_TOL
    if SAME_BITS:
        assert row.same_bits
    assert any(p.grad != 0.0 for p in graph.params)  # the gradients compared were not all zero


def test_main_runs_each_form_in_a_subprocess_and_reports_agreement():
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = bench_compile.main(["--graphs", "chain", "--nodes", "30", "--calls", "1"])
    assert code == 0
    rows = [line.split() for line in out.getvalue().splitlines() if line.startswith("chain ")]
    assert [row[1] for row in rows] == ["fast", "readable"]
    assert all(row[2] == "30" for row in rows)  # 10 links of 3 nodes
    if SAME_BITS:
        assert all(line[-2:] == ["same", "bits"] for line in rows)


def test_bench_train_compiled_column_agrees_with_scalargrad_and_replay():
    cols = {col.key: col for col in bench_train.columns()[0] if col.key in "afg"}
    for w in bench_train.WORKLOADS:
        checks = bench_train.check_agreement(w, [cols["a"], cols["g"]])
        assert [a.column for a in checks] == ["g"] and checks[0].ok, checks
        if SAME_BITS:
            assert bench_train.same_bits(w, cols["f"], cols["g"])
