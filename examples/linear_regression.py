"""Fit a line: learn y = 2x with one weight and one bias (GradLib's example).

The data are x = 0, 1, ..., 99 and y = 2x, fitted with SGD (momentum 0.9).
SGD on raw x of that size diverges (the gradient grows with x squared), so
the inputs and targets are divided by 100 for training: y/100 = 2 * x/100,
so the slope stays 2, and the learned bias times 100 is the intercept in
the original units.

    python -m examples.linear_regression               # under a second
    python -m examples.linear_regression --epochs 10   # fewer steps: not quite 2

The last line printed is ``final slope=<learned slope>`` (2 within 1e-3 by default).
"""

import argparse
import random

from scalargrad.nn import SGD, Linear, MSELoss
from scalargrad.train import Trainer


def main(argv=None):
    """Fit y = 2x; returns ``(slope, intercept)`` in the original units."""
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--samples", type=int, default=100, help="x = 0, 1, ..., samples - 1 (default 100)")
    parser.add_argument("--epochs", type=int, default=60, help="training epochs (default 60)")
    parser.add_argument("--lr", type=float, default=0.1, help="SGD learning rate (default 0.1)")
    parser.add_argument("--batch-size", type=int, default=10, help="samples per SGD step (default 10)")
    parser.add_argument("--seed", type=int, default=0,
                        help="seed for the initial weights and shuffling (default 0)")
    args = parser.parse_args(argv)

    # data: y = 2x, scaled by 1/100 (the same factor on both sides keeps the slope).
    scale = 100.0
    xs = [float(i) for i in range(args.samples)]
    x = [[xi / scale] for xi in xs]      # each input is a list of one feature
    y = [2.0 * xi / scale for xi in xs]  # targets are plain floats

    # one weight and one bias.
    random.seed(args.seed)
    model = Linear(1, 1)
    w, b = model.parameters()  # a neuron gives its weights, then its bias
    print(f"initial slope={w.data:.6f}, intercept={b.data * scale:.6f}")

    trainer = Trainer(
        x=x, y=y, model=model, loss=MSELoss(),
        optimizer=SGD(model.parameters(), lr=args.lr, momentum=0.9),
        batch_size=args.batch_size, num_epochs=args.epochs, seed=args.seed,
    )
    trainer.run()  # Ctrl-C stops cleanly after the current batch

    slope, intercept = w.data, b.data * scale
    print(f"learned y = {slope:.6f} * x + {intercept:.6f}  (true: y = 2 * x + 0)")
    print(f"intercept={intercept:.6f}")
    print(f"final slope={slope:.6f}")
    return slope, intercept


if __name__ == "__main__":
    main()
