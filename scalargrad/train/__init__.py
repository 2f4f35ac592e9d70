"""Training loops: ``Trainer``, ``Evaluator``, metrics, callbacks and the ``History`` of a run.

The original API keeps working unchanged::

    from scalargrad.train import Trainer, Evaluator, AccuracyMetric, split_train_val
    x_tr, y_tr, x_val, y_val = split_train_val(x, y, val_size=0.1)
    Trainer(x=x_tr, y=y_tr, model=model, loss=CrossEntropyLoss(), optimizer=SGD(model.parameters(), lr=0.1),
            batch_size=8, num_epochs=20,
            evaluator=Evaluator(x=x_val, y=y_val, model=model, metric=AccuracyMetric())).run()

and ``run()`` now returns a ``History`` (one record per epoch). Keyword
options add a ``DataLoader`` (``loader=``), an lr scheduler, callbacks
(``EarlyStopping``, ``ModelCheckpoint``, ``TerminateOnNaN``, your own), a ``seed`` for
reproducible runs, a progress bar, and a checkpoint file from which
``Trainer.resume(path)`` continues an interrupted run to exactly the weights
an uninterrupted run would have reached. Ctrl-C stops training cleanly at the
next batch boundary (press it twice to abort at once).

A training step over a batch ``(xb, yb)`` is exactly::

    outputs = [model(xi) for xi in xb]
    loss = loss_fn(outputs, yb)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()

With ``Trainer(..., replay=True)`` the graph of that step is built once per
batch size over placeholder inputs and then replayed with each batch's values
(``scalargrad.replay``): the same numbers, without making new nodes.
``Trainer(..., compile=True)`` also writes each such graph out as one Python
function (``scalargrad.compile``) and runs that: the same numbers again.

The package, one concern per module: ``trainer`` (the loop), ``evaluator``,
``metrics/``, ``history`` (the record), ``callbacks/`` (one callback per
module, the History and the progress display among them), ``progress``
(bar or lines), ``position`` (where a run stands), ``epoch_logs`` (what an
epoch's record holds), ``non_finite_loss`` (the warning at a nan loss),
``checkpoint`` (the resume file), ``interrupt`` (Ctrl-C), ``batch_replays``
(``replay=True``).
"""

from ..data import split_train_val  # the original scalargrad's API
from .callbacks import Callback, EarlyStopping, LambdaCallback, ModelCheckpoint, TerminateOnNaN
from .evaluator import Evaluator
from .history import History
from .metrics import (
    AccuracyMetric,
    ConfusionMatrix,
    F1Metric,
    LossMetric,
    MAEMetric,
    Metric,
    MSEMetric,
    R2Metric,
)
from .trainer import Trainer

__all__ = [
    "AccuracyMetric", "Callback", "ConfusionMatrix", "EarlyStopping", "Evaluator", "F1Metric", "History",
    "LambdaCallback", "LossMetric", "MAEMetric", "MSEMetric", "Metric", "ModelCheckpoint", "R2Metric",
    "TerminateOnNaN", "Trainer", "split_train_val",
]
