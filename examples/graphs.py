"""Draw the pictures in the README: the quickstart's graph, a small MLP's graph, a model diagram.

    python -m examples.graphs            # writes examples/linear.png, examples/mlp.png, examples/model.png

Needs graphviz (pip install graphviz, and the dot program: apt-get install graphviz).
"""

import argparse
import os
import random

from scalargrad import Scalar
from scalargrad.nn import Conv2D, CrossEntropyLoss, Flatten, Linear, MaxPool2D, Sequential

HERE = os.path.dirname(os.path.abspath(__file__))


def linear_function() -> Scalar:
    """The quickstart: f = x0*w0 + x1*w1 + b, back-propagated."""
    x0, x1 = Scalar(0.1, name='x0'), Scalar(0.2, name='x1')
    w0, w1, b = Scalar(0.3, name='w0'), Scalar(0.4, name='w1'), Scalar(0.5, name='b')
    f = (x0 * w0) + (x1 * w1) + b
    f.backward()
    return f


def small_mlp() -> Scalar:
    """A 2-2-2 MLP's cross-entropy loss on one sample, back-propagated; parameters carry their names."""
    random.seed(3)
    model = Sequential([Linear(2, 2, activation='tanh'), Linear(2, 2)])
    x = [Scalar(1.0, name='x0'), Scalar(-0.5, name='x1')]
    loss = CrossEntropyLoss()([model(x)], [1])
    loss.backward()
    return loss


def main(argv=None) -> None:
    """Write the three pictures into ``--out`` (default: the examples folder)."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default=HERE, help="folder to write the PNGs to (default: examples/)")
    args = parser.parse_args(argv)
    paths = [os.path.join(args.out, name) for name in ("linear.png", "mlp.png", "model.png")]
    linear_function().render(paths[0])
    small_mlp().render(paths[1])
    digits_conv = Sequential([Conv2D(1, 8, 3, padding=1, activation='relu'), MaxPool2D(2), Flatten(),
                              Linear(128, 10)])
    digits_conv.plot(paths[2], input_size=(1, 8, 8))
    for path in paths:
        print(f"wrote {path}")
    print(f"final pictures={len(paths)}")


if __name__ == "__main__":
    main()
