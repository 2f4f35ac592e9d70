"""The quickstart: a linear function, its forward value and its gradients.

    python -m examples.linear            # prints f and df/dw
    python -m examples.linear --render   # also draws the graph (needs graphviz)
"""

import argparse

from scalargrad import Scalar


def main(argv=None) -> None:
    """Build f = x0*w0 + x1*w1 + b, back-propagate and print the results."""
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--render", metavar="PATH", nargs="?", const="examples/linear.png",
                        help="draw the graph to PATH (default examples/linear.png); needs graphviz")
    args = parser.parse_args(argv)

    # define inputs and parameters.
    x0 = Scalar(0.1, name='x0')
    x1 = Scalar(0.2, name='x1')
    w0 = Scalar(0.3, name='w0')
    w1 = Scalar(0.4, name='w1')
    b = Scalar(0.5, name='b')

    # define linear function and execute forward pass.
    f = (x0 * w0) + (x1 * w1) + b

    # execute backward pass.
    f.backward()

    # print result and gradients of weights.
    print(f'forward: {f.data}')
    print(f'df/dw0: {w0.grad}')
    print(f'df/dw1: {w1.grad}')
    if args.render:
        f.render(args.render)
        print(f'graph written to {args.render}')
    print(f'final f={f.data:.2f}')


if __name__ == "__main__":
    main()
