"""Threads: each has its own grad and anomaly modes, and backward passes never corrupt each other.

Every test here is bounded: a fixed number of steps per thread and a join
timeout, so a deadlock fails the test instead of hanging the suite.
"""

import random
import threading

import pytest

from scalargrad import Scalar, detect_anomaly, is_grad_enabled, no_grad
from scalargrad import functional as F
from scalargrad.extend import building_replay
from scalargrad.nn import SGD, CrossEntropyLoss, Linear, Sequential
from scalargrad.replay import Replay

JOIN_SECONDS = 120


def run_threads(*targets):
    """Start one thread per target, wait for all, and re-raise the first error any of them hit."""
    errors = []

    def guarded(fn):
        def run():
            try:
                fn()
            except BaseException as e:  # noqa: BLE001 - handed to the test thread
                errors.append(e)
        return run

    threads = [threading.Thread(target=guarded(t)) for t in targets]
    for t in threads:
        t.start()
    for t in threads:
        t.join(JOIN_SECONDS)
        assert not t.is_alive(), "a thread did not finish in time"
    if errors:
        raise errors[0]


def test_training_records_while_another_thread_evaluates_under_no_grad():
    random.seed(0)
    model = Sequential([Linear(3, 4, activation="tanh"), Linear(4, 2)])
    optimizer = SGD(model.parameters(), lr=0.05)
    loss_fn = CrossEntropyLoss()
    xs = [[random.uniform(-1, 1) for _ in range(3)] for _ in range(8)]
    ys = [int(x[0] > 0) for x in xs]
    stop = threading.Event()
    zero_grad_steps = []

    def train():
        try:
            for _ in range(300):
                loss = loss_fn([model(x) for x in xs], ys)
                optimizer.zero_grad()
                loss.backward()
                if all(p.grad == 0.0 for p in model.parameters()):
                    zero_grad_steps.append(loss.data)
                optimizer.step()
        finally:
            stop.set()

    def evaluate():
        while not stop.is_set():
            with no_grad():
                outputs = [model(x) for x in xs]
                assert all(o.is_leaf for out in outputs for o in out)  # nothing recorded here

    run_threads(train, evaluate, evaluate)
    assert zero_grad_steps == []  # before grad mode was per thread: every step of 300 had zero gradients


def test_overlapping_no_grad_blocks_leave_every_thread_recording():
    a_inside, b_inside, a_left = threading.Event(), threading.Event(), threading.Event()

    def a():
        with no_grad():
            a_inside.set()
            assert b_inside.wait(JOIN_SECONDS)
        a_left.set()

    def b():
        assert a_inside.wait(JOIN_SECONDS)
        with no_grad():
            b_inside.set()
            assert a_left.wait(JOIN_SECONDS)  # a leaves its block while b is still inside its own

    run_threads(a, b)
    assert is_grad_enabled()
    x = Scalar(2.0)
    assert not (x * x).is_leaf


def test_modes_do_not_leak_between_threads():
    seen = {}
    inside = threading.Event()
    done = threading.Event()

    def holder():
        with no_grad(), detect_anomaly():
            inside.set()
            assert done.wait(JOIN_SECONDS)

    def observer():
        assert inside.wait(JOIN_SECONDS)
        x = Scalar(0.0)
        seen["grad"] = is_grad_enabled()
        seen["log"] = x.log().data  # would raise AnomalyError if the other thread's mode leaked in
        seen["recorded"] = not (x * 2.0).is_leaf
        done.set()

    run_threads(holder, observer)
    assert seen == {"grad": True, "log": float("-inf"), "recorded": True}


def test_backward_on_one_graph_from_several_threads_adds_every_pass():
    xs = [Scalar(0.1 * i) for i in range(50)]
    total = F.sum([x * x * (i + 1) for i, x in enumerate(xs)])
    passes_per_thread, threads = 40, 4

    def backward_many():
        for _ in range(passes_per_thread):
            total.backward()

    run_threads(*[backward_many] * threads)
    n = passes_per_thread * threads
    for i, x in enumerate(xs):
        assert x.grad == pytest.approx(n * 2 * (i + 1) * x.data, rel=1e-12)


def test_independent_graphs_train_in_parallel_threads_to_the_same_weights():
    # The models are made in this thread: `random` is one generator for the whole process,
    # so seeding it inside each thread would let the threads' initialisations interleave.
    def make_model():
        random.seed(3)
        return Sequential([Linear(2, 3, activation="relu"), Linear(3, 2)])

    def train(model):
        optimizer = SGD(model.parameters(), lr=0.1, momentum=0.9)
        data = [([0.5, -0.2], 0), ([-0.3, 0.8], 1), ([0.9, 0.1], 0), ([-0.7, -0.4], 1)]
        for _ in range(100):
            loss = CrossEntropyLoss()([model(x) for x, _ in data], [y for _, y in data])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        return [p.data for p in model.parameters()]

    alone = train(make_model())
    models = [make_model() for _ in range(3)]
    results = {}
    run_threads(*[lambda i=i: results.setdefault(i, train(models[i])) for i in range(3)])
    assert len(results) == 3
    assert all(r == alone for r in results.values())


def test_a_replay_build_in_one_thread_does_not_change_another_threads_graphs():
    building = threading.Event()
    release = threading.Event()
    seen = {}

    def builder():
        x = Scalar(1.0)

        def build():
            building.set()
            assert release.wait(JOIN_SECONDS)
            return x * 2.0

        Replay(build, inputs=[x])

    def other():
        assert building.wait(JOIN_SECONDS)
        seen["building"] = building_replay()
        release.set()

    run_threads(builder, other)
    assert seen == {"building": False}
