"""Draw the pictures of the README and of the docs (getting-started.md, how-backward-works.md).

    python -m examples.graphs   # examples/linear.png; docs/mlp.png, model.png, backward.png, derivative.png

Needs graphviz (pip install graphviz, and the dot program: apt-get install graphviz).
"""

import argparse
import os
import random

from scalargrad import Scalar, grad
from scalargrad.nn import Conv2D, CrossEntropyLoss, Flatten, Linear, MaxPool2D, Sequential

HERE = os.path.dirname(os.path.abspath(__file__))
DOCS = os.path.join(os.path.dirname(HERE), "docs")


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


def tanh_unit() -> Scalar:
    """The docs' walk-through: y = tanh(x*w + b), back-propagated."""
    x, w, b = Scalar(2.0, name='x'), Scalar(-0.5, name='w'), Scalar(0.3, name='b')
    y = (x * w + b).tanh()
    y.backward()
    return y


def first_derivative() -> Scalar:
    """The docs' second-derivative example: dy/dx of y = sin(x) * x is itself a graph."""
    x = Scalar(0.5, name='x')
    (dy,) = grad(x.sin() * x, x, create_graph=True)
    return dy


def main(argv=None) -> None:
    """Write the README's picture into ``--out`` and the docs' four into ``--docs``."""
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default=HERE, help="folder for the README's PNG (default: examples/)")
    parser.add_argument("--docs", default=DOCS, help="folder for the docs' PNGs (default: docs/)")
    args = parser.parse_args(argv)
    paths = [os.path.join(args.out, "linear.png")]
    paths += [os.path.join(args.docs, name)
              for name in ("mlp.png", "model.png", "backward.png", "derivative.png")]
    for folder in (args.out, args.docs):
        os.makedirs(folder, exist_ok=True)
    linear_function().render(paths[0])
    small_mlp().render(paths[1])
    digits_conv = Sequential([Conv2D(1, 8, 3, padding=1, activation='relu'), MaxPool2D(2), Flatten(),
                              Linear(128, 10)])
    digits_conv.plot(paths[2], input_size=(1, 8, 8))
    tanh_unit().render(paths[3])
    first_derivative().render(paths[4], show_grad=False)
    for path in paths:
        print(f"wrote {path}")
    print(f"final pictures={len(paths)}")


if __name__ == "__main__":
    main()
