"""Data-parallel training (``scalargrad.parallel``, ``Trainer(workers=N)``, ``Evaluator(workers=N)``).

Each test starts its pool and stops it; none leaves a process behind (counted in /proc and by
``multiprocessing.active_children()``). The agreement bound between N workers and one is the one
docs/performance.md states: per step, each gradient differs by at most 2 (B + 2) u sum_i |g_i|, u = 2**-53,
where g_i are the batch's per-sample contributions (only the order of additions and the shard weights differ).
"""

import math
import multiprocessing
import os
import platform
import random
from concurrent.futures import ProcessPoolExecutor

import pytest
from parameterized import parameterized

from scalargrad import Scalar
from scalargrad.data import make_blobs
from scalargrad.nn import SGD, CrossEntropyLoss, Linear, MSELoss, Sequential
from scalargrad.parallel import DataParallel, WorkerError, shard_bounds
from scalargrad.train import AccuracyMetric, Callback, Evaluator, Trainer
from scalargrad.train.batch_replays import BatchReplays, batch_values

U = 2.0 ** -53
PARENT = os.getpid()


def child_pids():
    """The processes whose parent is this one (zombies included: they have not been reaped), but for the
    one resource tracker that multiprocessing starts with the first spawned process and keeps for good."""
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat", encoding="ascii") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
                with open(f"/proc/{entry}/cmdline", "rb") as f:
                    command = f.read()
            except OSError:
                continue
            if int(fields[1]) == os.getpid() and b"multiprocessing.resource_tracker" not in command:
                pids.append(int(entry))
    return pids


def assert_no_children():
    assert multiprocessing.active_children() == []
    assert child_pids() == []


@pytest.fixture(autouse=True)
def _no_process_left():
    assert_no_children()
    yield
    assert_no_children()


class RaisingLoss(CrossEntropyLoss):
    """Cross-entropy that raises in a worker process (not in the parent, which only pickles it)."""

    def __call__(self, outputs, targets):
        if os.getpid() != PARENT:
            raise ArithmeticError("the loss blew up in a worker")
        return super().__call__(outputs, targets)


class RaisingHereLoss(CrossEntropyLoss):
    """Cross-entropy that raises in the parent, which runs the first shard itself."""

    def __call__(self, outputs, targets):
        if os.getpid() == PARENT:
            raise ArithmeticError("the loss blew up here")
        return super().__call__(outputs, targets)


class DyingLoss(CrossEntropyLoss):
    """Cross-entropy whose worker process exits at once, as one killed by the system would."""

    def __call__(self, outputs, targets):
        if os.getpid() != PARENT:
            os._exit(3)
        return super().__call__(outputs, targets)


class InterruptAt(Callback):
    def __init__(self, batch):
        self.batch = batch

    def on_batch_end(self, trainer, batch, logs):
        if batch == self.batch:
            raise KeyboardInterrupt


def mlp(seed, inputs=2, hidden=8, classes=3):
    random.seed(seed)
    return Sequential([Linear(inputs, hidden, activation="tanh"), Linear(hidden, classes)])


def blobs(n=60, seed=0):
    x, y = make_blobs(n, centers=3, seed=seed)
    return [list(map(float, xi)) for xi in x], list(y)


def zero_grads(model):
    for p in model.parameters():
        p.grad = 0.0


def one_process_gradient(model, loss, xb, yb):
    """The gradient and loss of the single-process compiled step (Trainer(compile=True)'s)."""
    zero_grads(model)
    value = BatchReplays(model, loss, compiled=True).gradients(xb, yb, lambda: zero_grads(model))
    return [p.grad for p in model.parameters()], value


def trainer(model, x, y, workers, epochs=3, **options):
    options.setdefault("compile", True)
    return Trainer(x=x, y=y, model=model, loss=options.pop("loss", CrossEntropyLoss()),
                   optimizer=SGD(model.parameters(), lr=0.1, momentum=0.9), batch_size=options.pop("bs", 10),
                   num_epochs=epochs, seed=0, progress=False, workers=workers, **options)


# ---- shards ---------------------------------------------------------------------------------------------

@parameterized.expand([(10, 4, [3, 3, 2, 2]), (7, 2, [4, 3]), (8, 2, [4, 4]), (3, 5, [1, 1, 1]), (1, 3, [1])])
def test_shards_are_consecutive_and_as_even_as_possible(size, shards, sizes):
    bounds = shard_bounds(size, shards)
    assert [hi - lo for lo, hi in bounds] == sizes
    assert bounds[0][0] == 0 and bounds[-1][1] == size
    assert all(a[1] == b[0] for a, b in zip(bounds, bounds[1:]))


# ---- one step: the shards' gradients add up to the batch's ----------------------------------------------

@parameterized.expand([
    ("mean_fork_compile", "mean", "fork", "compile", 2),
    ("mean_fork_replay", "mean", "fork", "replay", 3),
    ("mean_fork_graph", "mean", "fork", "graph", 2),
    ("sum_fork_compile", "sum", "fork", "compile", 2),
    ("mean_spawn_compile", "mean", "spawn", "compile", 2),
])
def test_a_step_gives_the_batch_gradient_within_the_bound(_, reduction, method, step, workers):
    x, y = blobs(7)  # 7 samples: shards of unequal sizes (4 + 3, or 3 + 2 + 2)
    model, loss = mlp(1), CrossEntropyLoss(reduction=reduction)
    expected, expected_loss = one_process_gradient(model, loss, x, y)
    per_sample = [one_process_gradient(model, loss, [xi], [yi])[0] for xi, yi in zip(x, y)]
    scale = 1 / len(x) if reduction == "mean" else 1.0
    bounds = [2 * (len(x) + 2) * U * sum(abs(g[k]) * scale for g in per_sample) for k in range(len(expected))]
    zero_grads(model)
    with DataParallel(model, loss, workers, step=step, start_method=method) as dp:
        value = dp.step(x, y)
        got = [p.grad for p in model.parameters()]
        again = dp.step(x, y)  # accumulates, as backward() does
        twice = [p.grad for p in model.parameters()]
    assert value == again
    assert abs(value - expected_loss) <= (len(x) + 4) * U * abs(expected_loss) * 4
    for k, (g, e, bound) in enumerate(zip(got, expected, bounds)):
        assert abs(g - e) <= bound, (k, g, e, bound)
        assert twice[k] == g + g
    assert any(g != 0.0 for g in got)


class _SpareAndReversed:
    """A model whose parameters() lists a parameter its loss never reads, then the network's in reverse,
    and whose output adds a leaf of its own that is no parameter."""

    def __init__(self):
        self.net, self.spare = mlp(1), Scalar(0.5)

    def __call__(self, x):
        return [v * Scalar(1.5) for v in self.net(x)]

    def parameters(self):
        return [self.spare, *reversed(self.net.parameters())]


def test_gradient_values_follow_the_models_parameters_and_touch_none():
    """BatchReplays.gradient_values at some weights gives what .grad holds after gradients() with the
    parameters holding those weights, in parameters() order (0.0 for one the loss does not read), from
    the samples or, once the graph is built, from the batch's values; no parameter is written."""
    x, y = blobs(5)
    model = _SpareAndReversed()
    params = model.parameters()
    steps = BatchReplays(model, CrossEntropyLoss(), compiled=True)
    weights = [p.data + 0.125 * (i % 3) for i, p in enumerate(params)]
    before = [(p.data, p.grad) for p in params]
    loss, grads = steps.gradient_values(weights, x, y)
    later_batch = blobs(5, seed=1)
    again = steps.gradient_values(weights, None, None, batch_values(*later_batch), 5)
    assert [(p.data, p.grad) for p in params] == before
    for p, w in zip(params, weights):
        p.data = w
    assert (loss, grads) == (steps.gradients(x, y, lambda: zero_grads(model)), [p.grad for p in params])
    assert again == (steps.gradients(*later_batch, lambda: zero_grads(model)), [p.grad for p in params])
    assert grads[0] == 0.0 and any(g != 0.0 for g in grads[1:])


@parameterized.expand([("compile",), ("replay",), ("graph",)])
def test_a_gradient_of_minus_zero_is_left_as_backward_leaves_it(step):
    """Every sample gives w the gradient -0.0 (a positive error times the input -0.0): backward() adds
    them into a zeroed .grad and leaves 0.0; so must the step, replacing .grad or adding into it."""
    random.seed(0)
    model = Linear(1, 1)
    x, y = [[-0.0]] * 2, [[model.parameters()[1].data - 5.0]] * 2  # shards of one sample: each gives -0.0
    expected, _ = one_process_gradient(model, MSELoss(), x, y)
    assert expected[0] == 0.0 and math.copysign(1.0, expected[0]) == 1.0
    with DataParallel(model, MSELoss(), 2, step=step, start_method="fork") as dp:
        for replace in (False, True):
            for p in model.parameters():
                p.grad = None
            dp.step(x, y, SGD(model.parameters(), lr=1e-300) if replace else None)
            got = [p.grad for p in model.parameters()]
            assert got == expected and [math.copysign(1.0, g) for g in got] == [1.0, 1.0], (replace, got)


def test_the_optimizer_steps_once_with_the_gradient():
    x, y = blobs(8)
    model = mlp(2)
    reference = mlp(2)
    expected, _ = one_process_gradient(reference, MSELoss(), x, [[float(t)] * 3 for t in y])
    optimizer = SGD(model.parameters(), lr=0.5)
    before = [p.data for p in model.parameters()]
    with DataParallel(model, MSELoss(), 2, start_method="fork") as dp:
        for p in model.parameters():
            p.grad = 123.0  # stale: replaced, as zero_grad() then backward() would
        dp.step(x, [[float(t)] * 3 for t in y], optimizer)
    for b, p, g in zip(before, model.parameters(), expected):
        assert p.data == pytest.approx(b - 0.5 * g, rel=1e-12, abs=1e-15)


def test_outputs_match_the_model():
    x, _ = blobs(9)
    model = mlp(3)
    with DataParallel(model, None, 2, start_method="fork") as dp:
        outputs = dp.outputs(x)
    assert outputs == [[v.data for v in model(xi)] for xi in x]


# ---- Trainer and Evaluator -------------------------------------------------------------------------------

@parameterized.expand([("compile", {"compile": True}), ("graph", {"compile": False})])
def test_workers_agree_with_one_process_after_many_steps_and_repeat_bit_for_bit(_, options):
    x, y = blobs(60)
    runs = {}
    for name, workers in (("one", None), ("two", 2), ("two again", 2)):
        model = mlp(4)
        trainer(model, x, y, workers, epochs=4, **options).run()  # 24 steps
        runs[name] = [p.data for p in model.parameters()]
    assert runs["two"] == runs["two again"]
    assert runs["two"] != mlp(4).state_dict()
    scale = max(abs(w) for w in runs["one"])
    assert max(abs(a - b) for a, b in zip(runs["one"], runs["two"])) <= 1e-12 * scale


def test_same_accuracy_on_digits():
    pytest.importorskip("sklearn")
    from scalargrad.data import load_digits

    x, y = load_digits()
    x_train, y_train, x_test, y_test = x[:240], y[:240], x[240:400], y[240:400]
    accuracies = []
    for workers in (None, 2):
        model = mlp(5, inputs=64, hidden=16, classes=10)
        evaluator = Evaluator(x=x_test, y=y_test, model=model, metric=AccuracyMetric(), workers=workers)
        history = trainer(model, x_train, y_train, workers, epochs=3, bs=32, evaluator=evaluator).run()
        accuracies.append(history["val_accuracy"])
    assert accuracies[0] == accuracies[1]
    assert accuracies[0][-1] > 0.5


def test_evaluator_with_workers_gives_the_same_results():
    x, y = blobs(30)
    model = mlp(6)
    alone = Evaluator(x=x, y=y, model=model, metric=AccuracyMetric(), batch_size=7).evaluate()
    parallel = Evaluator(x=x, y=y, model=model, metric=AccuracyMetric(), batch_size=7, workers=2)
    assert parallel.evaluate() == alone
    assert_no_children()  # the pool stops after an evaluation unless the Evaluator is open
    with parallel:
        assert parallel.evaluate() == alone
        assert parallel.evaluate() == alone
        assert multiprocessing.active_children()  # kept open


def test_checkpoint_and_resume_with_workers(tmp_path):
    x, y = blobs(40)
    path = tmp_path / "run.json"
    whole = mlp(7)
    trainer(whole, x, y, 2, epochs=4).run()
    model = mlp(7)
    trainer(model, x, y, 2, epochs=2, checkpoint=path).run()
    resumed = mlp(8)
    trainer(resumed, x, y, 2, epochs=4, checkpoint=path).resume(path)
    assert [p.data for p in resumed.parameters()] == [p.data for p in whole.parameters()]


# ---- failures: named, and nothing left behind -------------------------------------------------------------

@pytest.mark.parametrize("step", ["compile", "graph"])
def test_the_first_shard_runs_in_this_process_and_its_failure_is_named_so(step):
    """With a pool of its own, the parent computes shard 0 (on the model itself) while N - 1 processes
    compute the others: a failure there is worker 0's, "this process"."""
    x, y = blobs(8)
    model = mlp(3)
    with DataParallel(model, RaisingHereLoss(), 2, step=step, start_method="fork") as dp:
        with pytest.raises(WorkerError, match=r"worker 0 \(this process\) \(shard 1 of 2\) on batch 0, "
                                              r"process \d+, raised ArithmeticError: the loss blew up here"):
            dp.step(x, y)
        assert len(multiprocessing.active_children()) == 1  # N - 1 processes

def test_a_worker_that_raises_is_named_with_its_batch_and_traceback():
    x, y = blobs(20)
    model = mlp(9)
    with pytest.raises(WorkerError) as info:
        trainer(model, x, y, 2, loss=RaisingLoss()).run()
    message = str(info.value)
    assert "worker 1 (shard 2 of 2)" in message and "epoch 1, batch 0" in message  # shard 0 runs here
    assert "ArithmeticError: the loss blew up in a worker" in message
    assert "Traceback" in message and "__call__" in info.value.remote_traceback
    assert isinstance(info.value.__cause__, ArithmeticError)


def test_a_worker_that_dies_is_named_with_its_batch():
    x, y = blobs(20)
    model = mlp(10)
    with pytest.raises(WorkerError, match=r"worker \d .*epoch 1, batch 0: its process died"):
        trainer(model, x, y, 2, loss=DyingLoss(), compile=False).run()


def test_ctrl_c_stops_the_pool():
    x, y = blobs(40)
    model = mlp(11)
    run = trainer(model, x, y, 2, callbacks=[InterruptAt(1)],
                  evaluator=Evaluator(x=x, y=y, model=model, metric=AccuracyMetric(), workers=2))
    with pytest.raises(KeyboardInterrupt):
        run.run()
    assert len(run.losses) == 2


def test_a_user_executor_is_used_and_left_running():
    x, y = blobs(12)
    model = mlp(12)
    expected, _ = one_process_gradient(model, CrossEntropyLoss(), x, y)
    # PyPy 3.9's own ProcessPoolExecutor fails on submit() with spawn (DataParallel's pools work around it)
    method = "fork" if platform.python_implementation() == "PyPy" else "spawn"
    with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context(method)) as executor:
        zero_grads(model)
        with DataParallel(model, CrossEntropyLoss(), executor=executor) as dp:  # no replicas yet: set up
            dp.step(x, y)
        assert [p.grad for p in model.parameters()] == pytest.approx(expected, rel=1e-12, abs=1e-15)
        assert executor.submit(abs, -2).result() == 2  # still running
        history = trainer(model, x, y, None, executor=executor, epochs=1).run()
        assert len(history) == 1 and math.isfinite(history["train_loss"][-1])


# ---- refused up front --------------------------------------------------------------------------------------

def test_a_lambda_loss_is_refused_with_the_reason():
    x, y = blobs(6)
    with pytest.raises(TypeError, match="the loss .*lambda.*define it with def at module level"):
        Trainer(x=x, y=y, model=mlp(0), loss=lambda o, t: o[0][0], optimizer=SGD(mlp(0).parameters(), lr=0.1),
                batch_size=2, num_epochs=1, workers=2)


def test_a_local_model_class_is_refused_with_the_reason():
    class Local(Sequential):
        pass

    model = Local([Linear(2, 2)])
    with pytest.raises(TypeError, match="the model .*inside a function"):
        DataParallel(model, CrossEntropyLoss(), 2)


@parameterized.expand([
    ("zero", {"workers": 0}, ValueError, "workers must be >= 1"),
    ("string", {"workers": "2"}, TypeError, "workers"),
    ("executor", {"executor": object()}, TypeError, "concurrent.futures.Executor"),
    ("start", {"workers": 2, "start_method": "thread"}, ValueError, "start_method"),
    ("step", {"workers": 2, "step": "fast"}, ValueError, "step"),
])
def test_bad_options_are_refused(_, options, error, words):
    with pytest.raises(error, match=words), DataParallel(mlp(0), CrossEntropyLoss(), **options) as dp:
        dp.step([[0.0, 0.0]], [0])


def test_a_loss_that_does_not_reduce_the_batch_is_refused():
    with pytest.raises(ValueError, match="reduction='none'"):
        DataParallel(mlp(0), CrossEntropyLoss(reduction="none"), 2)


def test_one_worker_is_the_single_process_path():
    assert trainer(mlp(0), *blobs(4), 1).workers is None
    assert trainer(mlp(0), *blobs(4), None).workers is None


def test_the_digits_example_with_workers_reaches_the_same_accuracy(capsys):
    pytest.importorskip("sklearn")
    from examples import digits

    options = ["--compile", "--epochs", "2", "--limit", "300"]
    assert digits.main([*options, "--workers", "2"]) == digits.main(options)
    assert "final accuracy=" in capsys.readouterr().out
