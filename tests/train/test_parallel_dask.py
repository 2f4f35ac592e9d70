"""``Trainer(executor=...)`` on a dask.distributed cluster: a LocalCluster of two worker processes on
localhost, started and closed by the test. A remote cluster is the same code with its scheduler's address
(``Client("tcp://host:8786")``)."""

import multiprocessing
import random

import pytest

from scalargrad.data import make_blobs
from scalargrad.nn import SGD, CrossEntropyLoss, Linear, Sequential
from scalargrad.train import AccuracyMetric, Evaluator, Trainer

distributed = pytest.importorskip("distributed")


def run(executor, workers):
    x, y = make_blobs(40, centers=3, seed=0)
    x = [list(map(float, xi)) for xi in x]
    random.seed(3)
    model = Sequential([Linear(2, 8, activation="tanh"), Linear(8, 3)])
    evaluator = Evaluator(x=x, y=list(y), model=model, metric=AccuracyMetric(), workers=workers,
                          executor=executor)
    history = Trainer(x=x, y=list(y), model=model, loss=CrossEntropyLoss(),
                      optimizer=SGD(model.parameters(), lr=0.1, momentum=0.9), batch_size=10, num_epochs=3,
                      seed=0, progress=False, compile=True, evaluator=evaluator, workers=workers,
                      executor=executor).run()
    return [p.data for p in model.parameters()], history["val_accuracy"]


def test_training_on_a_local_dask_cluster_matches_a_process_pool():
    expected_weights, expected_accuracy = run(None, 2)
    with distributed.LocalCluster(n_workers=2, processes=True, threads_per_worker=1, host="127.0.0.1",
                                  dashboard_address=None) as cluster, distributed.Client(cluster) as client:
        weights, accuracy = run(client.get_executor(), 2)
        assert len(client.scheduler_info()["workers"]) == 2  # the cluster is left running for its owner
    assert weights == expected_weights  # the same shards, added in the same order: the same bits
    assert accuracy == expected_accuracy
    assert multiprocessing.active_children() == []
