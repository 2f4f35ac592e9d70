"""Classify generated data: 16 features, 3 classes, an MLP 16-16-8-3 trained with SGD and momentum.

The original scalargrad's setup, with the original API: a Trainer and an
Evaluator that reports validation accuracy after every epoch.

    python -m examples.train_classification                    # about 5 s
    python -m examples.train_classification --epochs 5 --samples 500
    python -m examples.train_classification --plot             # also draws the history (needs matplotlib)

The last line printed is ``final accuracy=<validation accuracy>``.
"""

import argparse
import random

from scalargrad.data import make_classification, split_train_val
from scalargrad.nn import SGD, CrossEntropyLoss, Linear, Sequential
from scalargrad.train import AccuracyMetric, Evaluator, Trainer


def main(argv=None):
    """Train the classifier; returns the final validation accuracy."""
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--samples", type=int, default=2000, help="samples to generate (default 2000)")
    parser.add_argument("--epochs", type=int, default=10, help="training epochs (default 10)")
    parser.add_argument("--lr", type=float, default=0.01, help="SGD learning rate (default 0.01)")
    parser.add_argument("--batch-size", type=int, default=4, help="samples per SGD step (default 4)")
    parser.add_argument("--val-size", type=float, default=0.2,
                        help="fraction held out for validation (default 0.2)")
    parser.add_argument("--class-sep", type=float, default=1.0,
                        help="distance of the class centres from the origin; smaller is harder (default 1.0)")
    parser.add_argument("--seed", type=int, default=0,
                        help="seed for data, weights and shuffling (default 0)")
    parser.add_argument("--plot", metavar="PATH", nargs="?", const="classification.png",
                        help="plot the training history to PATH (default classification.png); "
                             "needs matplotlib")
    args = parser.parse_args(argv)

    # data: a Gaussian cloud per class, 16 features, 3 classes.
    x, y = make_classification(n_samples=args.samples, n_features=16, n_classes=3, class_sep=args.class_sep,
                               seed=args.seed)
    x_train, y_train, x_val, y_val = split_train_val(x, y, val_size=args.val_size, seed=args.seed)
    print(f"{len(x_train)} training and {len(x_val)} validation samples, 16 features, 3 classes")

    # model, loss and optimizer (weights are drawn from Python's random module).
    random.seed(args.seed)
    model = Sequential([
        Linear(16, 16, activation='relu'),
        Linear(16, 8, activation='relu'),
        Linear(8, 3),
    ])
    loss = CrossEntropyLoss()
    optimizer = SGD(model.parameters(), lr=args.lr, momentum=0.9)

    # train; the evaluator reports validation accuracy after every epoch.
    evaluator = Evaluator(x=x_val, y=y_val, model=model, metric=AccuracyMetric())
    trainer = Trainer(
        x=x_train, y=y_train, model=model, loss=loss, optimizer=optimizer,
        batch_size=args.batch_size, num_epochs=args.epochs, evaluator=evaluator, seed=args.seed,
    )
    history = trainer.run()  # Ctrl-C stops cleanly after the current batch

    if args.plot:
        from examples._plotting import save_plot

        save_plot("plot_history", history, path=args.plot)
    accuracy = evaluator.evaluate()  # the final weights, also after a Ctrl-C
    print(f"final accuracy={accuracy:.4f}")
    return accuracy


if __name__ == "__main__":
    main()
