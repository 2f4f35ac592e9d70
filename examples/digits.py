"""Recognise real handwritten digits (scikit-learn's 1,797 8x8 images) with an MLP or a small CNN.

An 80/20 train/test split; Adam (lr 0.01) with a cosine-annealed learning
rate, batch size 32. The default model is an MLP 64-64-10 (25 epochs, about
70 s on a 2-core machine); ``--conv`` trains Conv2D(1, 8, 3x3, padding 1, relu) -> MaxPool2D(2)
-> Flatten -> Linear(128, 10) on the images as [1][8][8] nested lists
(20 epochs, about 140 s). Both reach about 97.5% held-out accuracy.

Needs scikit-learn for the images (they ship with it, no download):
``pip install scikit-learn``.

    python -m examples.digits                          # MLP
    python -m examples.digits --conv                   # CNN
    python -m examples.digits --epochs 3 --limit 500   # a quick look on the first 500 images
    python -m examples.digits --compile --workers 2    # each batch split over 2 processes
    python -m examples.digits --plot                   # also draws the history (needs matplotlib)

The last line printed is ``final accuracy=<held-out test accuracy>``.
"""

import argparse
import random
import sys

from examples._classify import train_and_test
from scalargrad.data import load_digits, split_train_val
from scalargrad.nn import Conv2D, Flatten, Linear, MaxPool2D, Sequential


def build_model(conv):
    """The CNN of ``--conv`` or the default MLP (weights drawn from Python's random module)."""
    if conv:
        return Sequential([
            Conv2D(1, 8, 3, padding=1, activation='relu'),  # [1][8][8] -> [8][8][8]
            MaxPool2D(2),                                   # -> [8][4][4]
            Flatten(),                                      # -> 128 values
            Linear(128, 10),
        ])
    return Sequential([
        Linear(64, 64, activation='relu'),
        Linear(64, 10),
    ])


def main(argv=None):
    """Train and test the digit classifier; returns the held-out accuracy."""
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--conv", action="store_true", help="train the CNN instead of the MLP")
    parser.add_argument("--epochs", type=int, default=None,
                        help="training epochs; the cosine schedule spans them "
                             "(default 25, or 20 with --conv)")
    parser.add_argument("--lr", type=float, default=0.01, help="Adam's initial learning rate (default 0.01)")
    parser.add_argument("--batch-size", type=int, default=32, help="samples per Adam step (default 32)")
    parser.add_argument("--test-size", type=float, default=0.2,
                        help="fraction held out for testing (default 0.2)")
    parser.add_argument("--limit", type=int, default=None, metavar="N",
                        help="use only the first N images (a quick run; default: all 1,797)")
    parser.add_argument("--seed", type=int, default=0,
                        help="seed for the split, weights and shuffling (default 0)")
    parser.add_argument("--plot", metavar="PATH", nargs="?", const="digits.png",
                        help="plot the training history to PATH (default digits.png); needs matplotlib")
    parser.add_argument("--replay", action="store_true",
                        help="build each step's graph once and replay it (faster, the same result)")
    parser.add_argument("--compile", action="store_true",
                        help="as --replay, but run each step's graph as generated Python code "
                             "(the same result as --replay)")
    parser.add_argument("--workers", type=int, default=None, metavar="N",
                        help="split each batch over N worker processes (scalargrad.parallel; default: one "
                             "process, no pool)")
    args = parser.parse_args(argv)
    epochs = args.epochs if args.epochs is not None else (20 if args.conv else 25)

    try:
        x, y = load_digits(as_images=args.conv)
    except ImportError:
        print("examples.digits needs scikit-learn for the digit images: pip install scikit-learn",
              file=sys.stderr)
        sys.exit(1)
    if args.limit is not None:
        x, y = x[:args.limit], y[:args.limit]
    x_train, y_train, x_test, y_test = split_train_val(x, y, val_size=args.test_size, seed=args.seed)
    shape = "1x8x8 images" if args.conv else "64 pixels each"
    print(f"{len(x_train)} training and {len(x_test)} test images ({shape}), 10 classes")

    random.seed(args.seed)
    model = build_model(args.conv)
    print(model)
    print(f"number of parameters: {model.num_parameters()}")
    return train_and_test(model, (x_train, y_train), (x_test, y_test), lr=args.lr, epochs=epochs,
                          batch_size=args.batch_size, seed=args.seed, plot=args.plot,
                          replay=args.replay, compile=args.compile, workers=args.workers)

if __name__ == "__main__":
    main()
