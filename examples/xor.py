"""Learn XNOR with a 2-4-2 MLP: the README's second quickstart, as a script.

The four samples are XNOR, the complement of XOR: label 1 when both inputs
are equal ([1, 1] and [0, 0]), 0 otherwise. The original scalargrad's README
calls this data XOR, hence the module's name. Batch size 1, plain SGD
(lr 0.075) for 1000 epochs, with a hand-written training loop; then the
softmax probabilities of each sample.

    python -m examples.xor                 # under a second; prints the README's output
    python -m examples.xor --seed 3        # another initialisation

With only four hidden ReLUs, some initialisations leave units dead and XNOR
unlearned; seed 0 is known to work. The last line printed is
``final accuracy=<fraction of the four samples classified right>``.
"""

import argparse
import random

from scalargrad.nn import SGD, CrossEntropyLoss, Linear, Sequential, Softmax


def main(argv=None):
    """Train on XNOR and print the predictions; returns the accuracy on the four samples."""
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, default=1000,
                        help="passes over the four samples (default 1000)")
    parser.add_argument("--lr", type=float, default=0.075, help="SGD learning rate (default 0.075)")
    parser.add_argument("--seed", type=int, default=0, help="seed for the initial weights (default 0)")
    args = parser.parse_args(argv)

    random.seed(args.seed)  # weights are drawn from Python's random module

    # define dataset.
    x = [
        [1.0, 1.0],
        [0.0, 1.0],
        [1.0, 0.0],
        [0.0, 0.0],
    ]
    y = [1, 0, 0, 1]

    # define model, loss function and optimizer.
    model = Sequential([
        Linear(2, 4, activation='relu'),
        Linear(4, 2, activation='identity'),
    ])
    loss_fn = CrossEntropyLoss()
    optim = SGD(model.parameters(), lr=args.lr)

    # train with batch size of 1.
    for _ in range(args.epochs):
        for xi, yi in zip(x, y):
            output = model(xi)
            target = yi
            optim.zero_grad()
            loss = loss_fn([output], [target])
            loss.backward()
            optim.step()

    # predict softmax probabilities for each sample.
    softmax = Softmax()
    correct = 0
    for xi, yi in zip(x, y):
        logits = model(xi)
        pred = softmax(logits)
        pred = [out.data for out in pred]
        print(f'x: {xi}')
        print(f'y: {yi}')
        print(f'pred: {pred}')
        print()
        correct += pred.index(max(pred)) == yi

    accuracy = correct / len(x)
    print(f"final accuracy={accuracy:.4f}")
    return accuracy


if __name__ == "__main__":
    main()
