"""Hunting for failures: killed training runs, huge graphs, long runs.

Killed runs (POSIX). A child Python process (``subprocess``) trains a small
seeded model (Dropout, Adam, StepLR, validation) with ``checkpoint=`` written
after every epoch, and reports on stdout what it is doing. The test process
builds the same Trainer from the same source (``_SETUP``, run in both) and
compares with an uninterrupted reference run, bit for bit.

* ``test_sigint_stops_the_child_cleanly_and_resume_is_bit_identical``: the
  child waits at a fixed batch until its Ctrl-C handler has run; the parent
  sends SIGINT there. The child must stop by itself (exit code 0) with an
  interrupted checkpoint at that batch, from which ``Trainer.resume`` in the
  test process reaches the reference weights and history.
* ``test_sigint_at_random_batches``: SIGINT as soon as the child reports a
  (seeded) random batch, so it lands wherever the child happens to be: in a
  step, the evaluation, a checkpoint write, or after the run. Whatever the
  outcome: exit code 0, a loadable checkpoint (if interrupted, at a batch
  boundary past the reported batch), and resuming from it gives the
  reference weights.
* ``test_sigkill_while_writing_a_checkpoint``: the child wraps the calls
  ``scalargrad._util.files.atomic_open`` makes (the file's ``write``, ``os.fsync``,
  ``os.replace``); from the second checkpoint write on, the wrapper prints a
  marker and sleeps inside that call, and the parent SIGKILLs it there (exit
  code -9 proves the kill landed; the leftover temp file, named with the
  child's pid, proves where). The checkpoint path must hold exactly the
  epoch-1 checkpoint, complete; resuming from it reaches the reference
  weights, and writing the same path again works despite the leftover.
* ``test_sigkill_at_random_times``: SIGKILL right after a seeded random
  batch (half of the times an epoch's last, so a checkpoint write is next)
  plus 0-3 ms, ten times; the path is always absent or a complete
  checkpoint that resumes to the reference weights, and at most the one
  write that was cut short leaves a temp file.

Huge graphs (no torch, so PyPy runs them too):

* ``test_million_node_chain``: a chain of 10**6 nodes, backward under a
  recursion limit only a little above the current depth (any recursion in
  the engine would fail), which must be unchanged afterwards; gradients
  against the closed form and a forward-mode recurrence; freeing the chain
  does not crash and really frees it.
* ``test_million_wide_graph``: one node with 10**6 parents that all share a
  weight: the same checks.

Long runs (CPython only: tracemalloc, and gc.collect() counts, are CPython's):

* ``test_thousand_steps_keep_memory_flat``: 1,000 SGD steps of a small MLP
  (by hand, rebuilding the graph each step; the Trainer; the Trainer with
  ``replay=True``). With tracing from step 1 on, the memory traced after
  step 1,000 is within 10% + 64 KiB of step 100 (see ``SLACK``), beyond what
  the Trainer keeps by design (one loss float per batch), and the cyclic GC
  never finds garbage during the run or after it.
"""

from __future__ import annotations

import gc
import math
import os
import platform
import queue
import random
import signal
import subprocess
import sys
import threading
import time
import weakref
from pathlib import Path

import pytest

from scalargrad import Scalar
from scalargrad import functional as F
from scalargrad.nn import SGD, CrossEntropyLoss, Linear, Sequential, load
from scalargrad.train import Callback, Trainer

ROOT = Path(__file__).resolve().parents[2]
CPYTHON = platform.python_implementation() == "CPython"
POSIX = os.name == "posix" and hasattr(signal, "SIGKILL")
TIMEOUT = 60.0  # seconds a child may take to reach a marker or to exit; only a hang gets near it

posix_only = pytest.mark.skipif(not POSIX, reason="needs POSIX signals")

# ---- the run killed in a child process ---------------------------------------------------

# Run by the child and by the test process, so both build exactly the same Trainer.
_SETUP = r'''
import random

from scalargrad.nn import Adam, CrossEntropyLoss, Dropout, Linear, Sequential, StepLR
from scalargrad.train import AccuracyMetric, Evaluator, LossMetric, Trainer

_rng = random.Random(2024)
X = [[_rng.uniform(-1, 1) for _ in range(3)] for _ in range(30)]
Y = [int(a + b > c) + int(a > 0.4) for a, b, c in X]  # three classes; 30 samples = 8 batches of 4 (last of 2)


def build(checkpoint=None, num_epochs=6, model_seed=0, callbacks=()):
    random.seed(model_seed)
    model = Sequential([Linear(3, 8, activation="tanh"), Dropout(0.2), Linear(8, 3)])
    optimizer = Adam(model.parameters(), lr=0.02)
    evaluator = Evaluator(x=X[:10], y=Y[:10], model=model,
                          metric=[LossMetric(CrossEntropyLoss()), AccuracyMetric()])
    return Trainer(x=X, y=Y, model=model, loss=CrossEntropyLoss(), optimizer=optimizer, batch_size=4,
                   num_epochs=num_epochs, evaluator=evaluator, scheduler=StepLR(optimizer, 2, gamma=0.7),
                   seed=3, progress=False, checkpoint=checkpoint, callbacks=list(callbacks))
'''

# The child: argv = mode, checkpoint path, epochs. Prints one line per event, flushed.
_CHILD = _SETUP + r'''
import os
import signal
import stat
import sys
import time

from scalargrad.train import Callback

MODE, PATH, EPOCHS = sys.argv[1], sys.argv[2], int(sys.argv[3])


def say(*words):
    print(*words, flush=True)


def stall(where, write):
    say("stalled", where, write)
    time.sleep(TIMEOUT)  # the parent SIGKILLs us in here
    os._exit(5)


# ---- number the temporary files atomic_open creates, and stall inside the chosen call ----
writes = {"count": 0, "fds": {}, "paths": {}}
real_open, real_fdopen, real_fsync, real_replace = os.open, os.fdopen, os.fsync, os.replace


def counting_open(path, flags, *args, **kwargs):
    fd = real_open(path, flags, *args, **kwargs)
    if flags & os.O_EXCL and os.fspath(path).endswith(".tmp"):
        writes["count"] += 1
        writes["fds"][fd] = writes["paths"][os.fspath(path)] = writes["count"]
    else:
        writes["fds"].pop(fd, None)  # a reused descriptor number
    return fd


class HalfWriter:
    """Writes half of the text, flushes it to the file, then stalls."""

    def __init__(self, f, write):
        self._f, self._write = f, write

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return self._f.__exit__(*exc)

    def write(self, text):
        self._f.write(text[:len(text) // 2])
        self._f.flush()
        stall("write", self._write)

    def __getattr__(self, name):
        return getattr(self._f, name)


def stalling_fdopen(fd, *args, **kwargs):
    f = real_fdopen(fd, *args, **kwargs)
    write = writes["fds"].get(fd, 0)
    return HalfWriter(f, write) if MODE == "write" and write >= 2 else f


def stalling_fsync(fd):
    write = writes["fds"].get(fd, 0)
    if MODE == "fsync" and write >= 2 and stat.S_ISREG(os.fstat(fd).st_mode):
        stall("fsync", write)
    return real_fsync(fd)


def stalling_replace(src, dst, *args, **kwargs):
    write = writes["paths"].get(os.fspath(src), 0)
    if MODE == "replace" and write >= 2:
        stall("replace", write)
    return real_replace(src, dst, *args, **kwargs)


os.open, os.fdopen, os.fsync, os.replace = counting_open, stalling_fdopen, stalling_fsync, stalling_replace


class Report(Callback):
    def on_train_begin(self, trainer):
        say("started", os.getpid())

    def on_batch_end(self, trainer, batch, logs):
        say("batch", trainer.epoch, batch)
        if MODE == "sigint-wait" and (trainer.epoch, batch) == (3, 2):
            say("waiting")
            deadline = time.monotonic() + TIMEOUT
            while not trainer.interrupt_requested:  # set by the Trainer's SIGINT handler
                if time.monotonic() > deadline:
                    sys.exit(4)
                time.sleep(0.002)

    def on_epoch_end(self, trainer, epoch, logs):
        say("epoch", epoch)


signal.signal(signal.SIGINT, signal.SIG_IGN)  # a SIGINT before or after run() changes nothing
history = build(PATH, EPOCHS, callbacks=[Report()]).run()
say("done", history.interrupted, len(history))
'''


def _setup_namespace() -> dict:
    namespace: dict = {"__name__": "failures_setup"}
    exec(compile(_SETUP, "<test_failures setup>", "exec"), namespace)  # noqa: S102
    return namespace


build = _setup_namespace()["build"]


def _weights(trainer):
    return [p.data for p in trainer.model.parameters()]


def _records(history):
    return [{k: v for k, v in r.items() if k != "seconds"} for r in history.records]


class _EpochStates(Callback):
    def __init__(self):
        self.states = {}

    def on_epoch_end(self, trainer, epoch, logs):
        self.states[epoch] = trainer.model.state_dict()


_references: dict = {}


def reference(num_epochs=6):
    """Final weights, history records and the model state after each epoch of an uninterrupted run."""
    if num_epochs not in _references:
        states = _EpochStates()
        trainer = build(num_epochs=num_epochs, callbacks=[states])
        history = trainer.run()
        _references[num_epochs] = (_weights(trainer), _records(history), states.states)
    return _references[num_epochs]


def resume_and_check(path, num_epochs=6):
    """Resume from ``path`` in this process with fresh objects; the end is the reference run's, bit for
    bit."""
    final, records, _ = reference(num_epochs)
    random.seed(4321)  # the checkpoint must restore the global random state itself
    fresh = build(str(path), num_epochs, model_seed=99)
    assert _weights(fresh) != final
    history = fresh.resume(str(path))
    assert not history.interrupted
    assert _weights(fresh) == final
    assert _records(history) == records
    assert load(path)["epoch"] == num_epochs  # and it wrote the same path again


def _temp_files(folder):
    return sorted(p.name for p in Path(folder).iterdir() if p.name.endswith(".tmp"))


class Child:
    """A training child process whose stdout lines are read by a thread, killed if a test fails."""

    def __init__(self, mode, path, num_epochs=6):
        path = Path(path)
        self.stderr_path = path.parent / f"child-{mode}-{time.monotonic_ns()}.err"
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join([str(ROOT)] + ([env["PYTHONPATH"]] if env.get("PYTHONPATH")
                                                           else []))
        script = f"TIMEOUT = {TIMEOUT!r}\n" + _CHILD
        with open(self.stderr_path, "w") as stderr:  # the child writes to its own copy of the descriptor
            self.proc = subprocess.Popen([sys.executable, "-c", script, mode, str(path), str(num_epochs)],
                                         stdout=subprocess.PIPE, stderr=stderr, text=True,
                                         cwd=str(path.parent), env=env)
        self.lines: queue.Queue = queue.Queue()
        self.seen: list[list[str]] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self):
        for line in self.proc.stdout:
            self.lines.put(line.split())
        self.lines.put(None)

    def stderr(self):
        return self.stderr_path.read_text()

    def wait_for(self, *words):
        """The next stdout line starting with ``words`` (skipping others)."""
        deadline = time.monotonic() + TIMEOUT
        want = list(words)
        while True:
            try:
                line = self.lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                pytest.fail(f"the child never printed {want}; stderr:\n{self.stderr()}")
            if line is None:
                pytest.fail(f"the child exited ({self.proc.wait()}) before printing {want}; "
                            f"stderr:\n{self.stderr()}")
            self.seen.append(line)
            if line[:len(want)] == want:
                return line

    def rest(self):
        """Every line printed after those already read (the child must have exited)."""
        self._reader.join(TIMEOUT)
        out = []
        while True:
            line = self.lines.get_nowait()
            if line is None:
                return out
            out.append(line)

    def signal(self, signum):
        self.proc.send_signal(signum)

    def wait(self):
        try:
            return self.proc.wait(TIMEOUT)
        except subprocess.TimeoutExpired:
            pytest.fail(f"the child did not exit within {TIMEOUT} s; stderr:\n{self.stderr()}")

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        self._reader.join(TIMEOUT)  # it stops at the end of the pipe
        self.proc.stdout.close()


@posix_only
def test_sigint_stops_the_child_cleanly_and_resume_is_bit_identical(tmp_path):
    path = tmp_path / "run.json"
    with Child("sigint-wait", path) as child:
        child.wait_for("waiting")  # in epoch 3, after batch 2 (the third), until the handler has run
        child.signal(signal.SIGINT)
        assert child.wait() == 0, child.stderr()
        assert child.rest()[-1] == ["done", "True", "2"]
    state = load(path)  # complete and readable
    assert state["kind"] == "scalargrad-trainer"
    assert (state["epoch"], state["batch"]) == (2, 3)
    assert state["history"]["interrupted"] is True and len(state["history"]["records"]) == 2
    assert state["model"] != reference()[2][2]  # three batches past epoch 2
    assert _temp_files(tmp_path) == []
    resume_and_check(path)


@posix_only
def test_sigint_at_random_batches(tmp_path):
    rng = random.Random(7)
    for trial in range(4):
        path = tmp_path / f"run{trial}.json"
        epoch, batch = rng.randint(1, 5), rng.randrange(8)
        with Child("plain", path) as child:
            child.wait_for("batch", str(epoch), str(batch))
            child.signal(signal.SIGINT)
            assert child.wait() == 0, child.stderr()
            done = child.rest()[-1]
        assert done[0] == "done"
        state = load(path)
        interrupted = done[1] == "True"
        assert state["history"]["interrupted"] is interrupted
        assert len(state["history"]["records"]) == int(done[2]) == state["epoch"]
        if interrupted:  # stopped at a batch boundary after the one it was at when the signal was sent
            assert (state["epoch"], state["batch"]) >= (epoch - 1, batch + 1)
        else:  # the signal came after the run: nothing lost
            assert state["epoch"] == 6
        resume_and_check(path)


@posix_only
@pytest.mark.parametrize("where", ["write", "fsync", "replace"])
def test_sigkill_while_writing_a_checkpoint(tmp_path, where):
    path = tmp_path / "run.json"
    _, _, states = reference()
    with Child(where, path) as child:
        pid = child.wait_for("started")[1]
        assert child.wait_for("stalled") == ["stalled", where, "2"]  # inside the second checkpoint write
        assert ["epoch", "2"] in child.seen
        child.signal(signal.SIGKILL)
        assert child.wait() == -signal.SIGKILL
        assert "done" not in [line[0] for line in child.rest()]

    # The path holds the epoch-1 checkpoint, whole.
    state = load(path)
    assert state["kind"] == "scalargrad-trainer"
    assert (state["epoch"], state["batch"]) == (1, 0) and len(state["history"]["records"]) == 1
    assert state["model"] == states[1]

    # The kill left the second write's temp file behind (named with the child's pid): that is where it landed.
    leftovers = _temp_files(tmp_path)
    assert len(leftovers) == 1 and leftovers[0].startswith(f".run.json.{pid}.")
    leftover = tmp_path / leftovers[0]
    if where == "write":  # half the text reached the file
        with pytest.raises(ValueError, match="corrupt or truncated"):
            load(leftover)
    else:  # written in full, never renamed into place
        assert load(leftover)["model"] == states[2]

    # The leftover does not get in the way of later writes to the same path.
    resume_and_check(path)
    assert _temp_files(tmp_path) == leftovers


@posix_only
def test_sigkill_at_random_times(tmp_path):
    rng = random.Random(11)
    for trial in range(10):
        path = tmp_path / f"run{trial}.json"
        # After a random batch (the last of an epoch half of the times: the checkpoint write comes next),
        # plus up to 3 ms: the kill lands anywhere from the first step to after the run.
        epoch, batch = rng.randint(1, 12), rng.choice([7, rng.randrange(8)])
        with Child("plain", path, num_epochs=12) as child:
            child.wait_for("batch", str(epoch), str(batch))
            time.sleep(rng.uniform(0.0, 0.003))
            child.signal(signal.SIGKILL)
            code = child.wait()
        assert code in (-signal.SIGKILL, 0), child.stderr()
        temp = _temp_files(tmp_path)
        assert len(temp) <= 1  # killed inside atomic_open: its temp file stays (removed for the next trial)
        for name in temp:
            (tmp_path / name).unlink()
        if not path.exists():
            assert code == -signal.SIGKILL
            continue
        state = load(path)  # never partial
        assert state["kind"] == "scalargrad-trainer" and state["batch"] == 0
        assert state["model"] == reference(12)[2][state["epoch"]]
        if code == 0:
            assert state["epoch"] == 12
        resume_and_check(path, 12)


# ---- huge graphs ----------------------------------------------------------------------------

def _depth():
    frame, depth = sys._getframe(), 0
    while frame is not None:
        frame, depth = frame.f_back, depth + 1
    return depth


class _LowRecursionLimit:
    """A recursion limit a little above the current depth: enough for the engine's few frames, not for
    recursion."""

    def __enter__(self):
        self.original = sys.getrecursionlimit()
        self.limit = _depth() + 100
        sys.setrecursionlimit(self.limit)
        return self

    def __exit__(self, *exc):
        sys.setrecursionlimit(self.original)


def _freed(ref):
    if ref() is not None:
        gc.collect()  # PyPy frees on collection
    return ref() is None


def _chain(n, x, w, b):
    y = x
    for _ in range(n):
        y = y * w + b
    return y


def test_million_node_chain():
    steps = 500_000  # y = y * w + b: two nodes per step
    x, w, b = Scalar(0.75), Scalar(1.0 - 1e-6), Scalar(1e-3)
    y = _chain(steps, x, w, b)
    with _LowRecursionLimit() as low:
        y.backward()
        assert sys.getrecursionlimit() == low.limit
    # y = x w**n + b (1 + w + ... + w**(n-1)), so dy/dx = w**n and dy/db = (1 - w**n) / (1 - w).
    wn = w.data ** steps
    assert math.isclose(x.grad, wn, rel_tol=1e-9)
    assert math.isclose(b.grad, (1.0 - wn) / (1.0 - w.data), rel_tol=1e-6)
    # dy/dw by a forward-mode recurrence on floats: (v, dv) -> (v w + b, dv w + v).
    v, dv = x.data, 0.0
    for _ in range(steps):
        v, dv = v * w.data + b.data, dv * w.data + v
    assert math.isclose(y.data, v, rel_tol=1e-12)
    assert math.isclose(w.grad, dv, rel_tol=1e-9)

    ref = weakref.ref(y)
    del y  # a million-deep chain of references: freeing it must not overflow the C stack
    assert _freed(ref)
    assert all(p.is_leaf for p in (x, w, b))


def test_million_wide_graph():
    n = 10 ** 6
    w = Scalar(0.5)
    terms = [w * (i / n) for i in range(n)]  # n nodes, all reading w
    with _LowRecursionLimit() as low:
        y = F.sum(terms).tanh()
        y.backward()
        assert sys.getrecursionlimit() == low.limit
    s = 0.5 * (n - 1) / 2  # sum of w * i / n
    assert math.isclose(y.data, math.tanh(s), rel_tol=1e-12)
    dy = 1.0 - math.tanh(s) ** 2
    assert terms[0].grad == terms[-1].grad and math.isclose(terms[0].grad, dy, rel_tol=1e-12)
    assert math.isclose(w.grad, dy * (n - 1) / 2, rel_tol=1e-9)

    ref = weakref.ref(y), weakref.ref(terms[n // 2])
    del y, terms
    assert _freed(ref[0]) and _freed(ref[1])


# ---- long runs ------------------------------------------------------------------------------

SLACK = 64 * 1024
# Tracing starts after step 1, so the run's fixed allocations (optimizer state, the epoch's sample
# order, a replayed graph) stay out of the base that the 10% is taken of. The 64 KiB absorb what the
# interpreter itself may still grow after step 100 (dict and list over-allocation, free lists, method
# caches); measured growth is a few hundred bytes. A leak of one Scalar per step (112 bytes plus its
# float) is over 120 KB across the 900 steps compared, well beyond it.


class _Memory:
    """Traced memory at chosen steps, and the objects the cyclic GC collected meanwhile."""

    def __init__(self):
        self.at: dict[int, int] = {}
        self.collected = 0
        self.tracemalloc = None

    def _on_gc(self, phase, info):
        if phase == "stop":
            self.collected += info["collected"]

    def start(self):
        import tracemalloc

        gc.collect()
        self.tracemalloc = tracemalloc
        tracemalloc.start()
        gc.callbacks.append(self._on_gc)

    def record(self, step):
        self.at[step] = self.tracemalloc.get_traced_memory()[0]

    def stop(self):
        if self.tracemalloc is not None and self.tracemalloc.is_tracing():
            gc.callbacks.remove(self._on_gc)
            self.tracemalloc.stop()

    def at_step(self, step):
        if step == 1:
            self.start()
        elif step in (100, 1000):
            self.record(step)

    def check(self, expected_growth=0):
        grown = self.at[1000] - self.at[100]
        assert grown <= 0.1 * self.at[100] + SLACK + expected_growth, (self.at, expected_growth)
        assert self.collected == 0  # the GC found no reference cycles to free during the run
        assert gc.collect() == 0  # nor after it


def _mlp_data():
    rng = random.Random(5)
    x = [[rng.uniform(-1, 1) for _ in range(6)] for _ in range(4000)]
    y = [int(r[0] + r[1] > 0) + int(r[2] > 0.3) for r in x]
    return x, y


def _mlp():
    random.seed(1)
    model = Sequential([Linear(6, 12, activation="tanh"), Linear(12, 3)])
    return model, SGD(model.parameters(), lr=0.05, momentum=0.9)


@pytest.mark.skipif(not CPYTHON, reason="tracemalloc and gc.collect() counts are CPython's")
@pytest.mark.parametrize("how", ["by hand", "Trainer", "Trainer(replay=True)"])
def test_thousand_steps_keep_memory_flat(how):
    x, y = _mlp_data()  # 4,000 samples: 1,000 batches of 4
    model, optimizer = _mlp()
    loss_fn = CrossEntropyLoss()
    memory = _Memory()
    sizes: dict[int, int] = {}
    try:
        if how == "by hand":
            for i in range(1, 1001):
                xb, yb = x[4 * i - 4:4 * i], y[4 * i - 4:4 * i]
                loss = loss_fn([model(xi) for xi in xb], yb)
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                del loss
                memory.at_step(i)
            losses = []
        else:
            class Measure(Callback):
                def on_batch_end(self, trainer, batch, logs):
                    if batch + 1 in (100, 1000):
                        sizes[batch + 1] = sys.getsizeof(trainer.losses)
                    memory.at_step(batch + 1)

            trainer = Trainer(x=x, y=y, model=model, loss=loss_fn, optimizer=optimizer, batch_size=4,
                              num_epochs=1, seed=0, progress=False, callbacks=[Measure()],
                              replay=how == "Trainer(replay=True)")
            trainer.run()
            losses = trainer.losses
    finally:
        memory.stop()
    assert len(memory.at) == 2 and all(math.isfinite(p.data) for p in model.parameters())
    # The Trainer keeps every batch loss (trainer.losses, the original API): a float and a list slot each.
    expected = 0 if not losses else sizes[1000] - sizes[100] + 900 * sys.getsizeof(1.0)
    memory.check(expected)
