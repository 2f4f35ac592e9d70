"""The training run examples.digits and examples.mnist share: Adam with a cosine-annealed learning rate,
cross-entropy, the held-out loss and accuracy after every epoch, the time taken, and the final accuracy."""

import time

from scalargrad.nn import Adam, CosineAnnealingLR, CrossEntropyLoss
from scalargrad.train import AccuracyMetric, Evaluator, LossMetric, Trainer


def train_and_test(model, train, test, *, lr, epochs, batch_size, seed, label_smoothing=0.0, plot=None,
                   workers=None, **step):
    """Train ``model`` on ``train`` (an ``(x, y)`` pair) and test it on ``test`` after every epoch; print
    the time taken and ``final accuracy=...``, and return that accuracy. ``step`` holds Trainer's
    ``replay=`` or ``compile=``; ``plot`` a path for the history's picture (needs matplotlib); ``workers``
    splits each batch, and the test, over that many processes (``scalargrad.parallel``)."""
    loss = CrossEntropyLoss(label_smoothing=label_smoothing)
    optimizer = Adam(model.parameters(), lr=lr)
    scheduler = CosineAnnealingLR(optimizer, T_max=epochs)  # lr: down to 0 over the run
    evaluator = Evaluator(x=test[0], y=test[1], model=model, metric=[LossMetric(loss), AccuracyMetric()],
                          workers=workers)
    trainer = Trainer(x=train[0], y=train[1], model=model, loss=loss, optimizer=optimizer,
                      batch_size=batch_size, num_epochs=epochs, evaluator=evaluator, scheduler=scheduler,
                      seed=seed, workers=workers, **step)
    start, start_cpu = time.perf_counter(), time.process_time()
    history = trainer.run()  # Ctrl-C stops cleanly after the current batch
    seconds, cpu = time.perf_counter() - start, time.process_time() - start_cpu
    done = max(len(history), 1)
    print(f"training took {seconds:.1f} s, {seconds / done:.1f} s per epoch with its test "
          f"(CPU time {cpu:.1f} s, {cpu / done:.1f} s per epoch)")
    if plot:
        from examples._plotting import save_plot

        save_plot("plot_history", history, path=plot)
    accuracy = evaluator.evaluate()['accuracy']  # the final weights, also after a Ctrl-C
    print(f"final accuracy={accuracy:.4f}")
    return accuracy
