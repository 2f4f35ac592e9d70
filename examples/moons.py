"""micrograd's demo: separate two moons with an MLP 2-16-16-1, a max-margin loss and L2 regularisation.

As in micrograd's ``demo.ipynb``: 100 points of ``make_moons(noise=0.1)``
with labels -1/+1, weights drawn uniform in (-1, 1) and biases 0, the loss
``mean(relu(1 - y * score)) + 1e-4 * sum(p ** 2 for p in parameters)``, and
full-batch SGD whose learning rate falls linearly from 1.0 to about 0.1 over
100 steps. The Trainer does the loop; the L2 term is a small loss wrapper
and the learning-rate decay a Callback.

    python -m examples.moons                  # about 3 s on a 2-core machine
    python -m examples.moons --plot           # also draws the decision boundary to moons.png
    python -m examples.moons --plot out.svg   # ... or to out.svg (needs matplotlib)

The last line printed is ``final accuracy=<accuracy on the 100 points>``.
"""

import argparse
import random

from scalargrad import functional as F
from scalargrad.data import make_moons
from scalargrad.nn import SGD, HingeLoss, Linear, Sequential, init
from scalargrad.train import AccuracyMetric, Callback, Evaluator, Trainer


class RegularizedLoss:
    """``loss_fn(outputs, targets) + alpha * sum of squared parameters`` (L2 regularisation)."""

    def __init__(self, loss_fn, parameters, alpha=1e-4):
        self.loss_fn = loss_fn
        self.parameters = list(parameters)
        self.alpha = alpha

    def __call__(self, outputs, targets):
        data_loss = self.loss_fn(outputs, targets)
        reg_loss = self.alpha * F.dot(self.parameters, self.parameters)  # one node: sum of p * p
        return data_loss + reg_loss


class LinearDecay(Callback):
    """Set the learning rate to ``start - (start - end) * k / steps`` at the start of epoch k + 1.

    With micrograd's ``start=1.0, end=0.1, steps=100`` the lr goes 1.0, 0.991, ..., 0.109.
    """

    def __init__(self, start=1.0, end=0.1, steps=100):
        self.start, self.end, self.steps = start, end, steps

    def on_epoch_begin(self, trainer, epoch):
        lr = self.start - (self.start - self.end) * (epoch - 1) / self.steps
        for group in trainer.optimizer.param_groups:
            group['lr'] = lr


def main(argv=None):
    """Train on the moons; returns the accuracy on the training points."""
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--samples", type=int, default=100, help="points to generate (default 100)")
    parser.add_argument("--noise", type=float, default=0.1, help="noise of the moons (default 0.1)")
    parser.add_argument("--epochs", type=int, default=100,
                        help="full-batch SGD steps; the lr decays over them (default 100)")
    parser.add_argument("--alpha", type=float, default=1e-4, help="L2 regularisation strength (default 1e-4)")
    parser.add_argument("--seed", type=int, default=0, help="seed for data and weights (default 0)")
    parser.add_argument("--plot", metavar="PATH", nargs="?", const="moons.png",
                        help="draw the decision boundary to PATH (default moons.png); needs matplotlib")
    args = parser.parse_args(argv)

    # data: two half circles, labels mapped from 0/1 to -1/+1 for the max-margin loss.
    x, y = make_moons(n_samples=args.samples, noise=args.noise, seed=args.seed)
    y = [2 * t - 1 for t in y]

    # model: 2-16-16-1 with micrograd's initialisation (weights uniform in (-1, 1), biases 0).
    random.seed(args.seed)
    model = Sequential([
        Linear(2, 16, activation='relu'),
        Linear(16, 16, activation='relu'),
        Linear(16, 1),  # one score: its sign is the class
    ])
    for layer in model.modules:
        init.uniform_(layer, -1.0, 1.0)
        init.zeros_([neuron.b for neuron in layer.neurons])
    print(model)
    print(f"number of parameters: {model.num_parameters()}")

    loss = RegularizedLoss(HingeLoss(), model.parameters(), alpha=args.alpha)
    optimizer = SGD(model.parameters(), lr=1.0)

    # full batch: one SGD step per epoch, the lr falling from 1.0 to about 0.1.
    evaluator = Evaluator(x=x, y=y, model=model, metric=AccuracyMetric())  # -1/+1 targets: score > 0 is +1
    trainer = Trainer(
        x=x, y=y, model=model, loss=loss, optimizer=optimizer,
        batch_size=len(x), num_epochs=args.epochs, evaluator=evaluator, seed=args.seed,
        callbacks=[LinearDecay(start=1.0, end=0.1, steps=args.epochs)],
    )
    trainer.run()  # Ctrl-C stops cleanly after the current step

    if args.plot:
        from examples._plotting import save_plot

        save_plot("plot_decision_boundary", model, x, y, path=args.plot)
    accuracy = evaluator.evaluate()
    print(f"final accuracy={accuracy:.4f}")
    return accuracy


if __name__ == "__main__":
    main()
