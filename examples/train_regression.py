"""Regression on generated data: 16 features, an MLP 16-16-8-1, MSE loss, SGD with momentum.

The original scalargrad's regression setup: the model's outputs are
1-element lists, the targets floats; the evaluator reports validation MSE
and R2 (the coefficient of determination: 1 is a perfect fit, 0 is no better
than predicting the mean) after every epoch.

    python -m examples.train_regression                  # about 5 s
    python -m examples.train_regression --epochs 5 --samples 300
    python -m examples.train_regression --plot           # also draws the history (needs matplotlib)

The last two lines printed are ``mse=<validation MSE>`` and ``final r2=<validation R2>``.
"""

import argparse
import random

from scalargrad.data import make_regression, split_train_val
from scalargrad.nn import SGD, Linear, MSELoss, Sequential
from scalargrad.train import Evaluator, MSEMetric, R2Metric, Trainer


def main(argv=None):
    """Train the regressor; returns ``(mse, r2)`` on the validation set."""
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--samples", type=int, default=1000, help="samples to generate (default 1000)")
    parser.add_argument("--epochs", type=int, default=20, help="training epochs (default 20)")
    parser.add_argument("--lr", type=float, default=0.005, help="SGD learning rate (default 0.005)")
    parser.add_argument("--batch-size", type=int, default=4, help="samples per SGD step (default 4)")
    parser.add_argument("--val-size", type=float, default=0.2,
                        help="fraction held out for validation (default 0.2)")
    parser.add_argument("--noise", type=float, default=0.1,
                        help="standard deviation of the noise added to the targets (default 0.1)")
    parser.add_argument("--seed", type=int, default=0,
                        help="seed for data, weights and shuffling (default 0)")
    parser.add_argument("--plot", metavar="PATH", nargs="?", const="regression.png",
                        help="plot the training history to PATH (default regression.png); needs matplotlib")
    args = parser.parse_args(argv)

    # data: y = w . x + noise for a random w over 16 features.
    x, y = make_regression(n_samples=args.samples, n_features=16, noise=args.noise, seed=args.seed)
    x_train, y_train, x_val, y_val = split_train_val(x, y, val_size=args.val_size, seed=args.seed)
    print(f"{len(x_train)} training and {len(x_val)} validation samples, 16 features")

    # model (one output), loss and optimizer; weights are drawn from Python's random module.
    random.seed(args.seed)
    model = Sequential([
        Linear(16, 16, activation='relu'),
        Linear(16, 8, activation='relu'),
        Linear(8, 1),
    ])
    loss = MSELoss()  # outputs: 1-element lists; targets: floats
    optimizer = SGD(model.parameters(), lr=args.lr, momentum=0.9)

    # train; the evaluator reports validation MSE and R2 after every epoch.
    evaluator = Evaluator(x=x_val, y=y_val, model=model, metric=[MSEMetric(), R2Metric()])
    trainer = Trainer(
        x=x_train, y=y_train, model=model, loss=loss, optimizer=optimizer,
        batch_size=args.batch_size, num_epochs=args.epochs, evaluator=evaluator, seed=args.seed,
    )
    history = trainer.run()  # Ctrl-C stops cleanly after the current batch

    if args.plot:
        from examples._plotting import save_plot

        save_plot("plot_history", history, path=args.plot)
    results = evaluator.evaluate()  # the final weights, also after a Ctrl-C
    print(f"mse={results['mse']:.4f}")
    print(f"final r2={results['r2']:.4f}")
    return results['mse'], results['r2']


if __name__ == "__main__":
    main()
