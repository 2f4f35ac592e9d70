"""Pictures of big graphs: how large is the default picture, how long does ``dot`` take, does show=True work?

What it measures
----------------
For three graphs (the issue's cases)

- ``chain-100k``: ``y = y * 1.0001 + x`` for 50,000 steps (100,001 nodes);
- ``moons-loss``: micrograd's moons loss, as ``examples/moons.py`` builds it:
  an MLP 2-16-16-1 (relu, weights uniform in (-1, 1)) on 100 points of
  ``make_moons(noise=0.1)``, ``HingeLoss`` plus ``1e-4 * dot(params, params)``;
- ``chain-230k``: the same chain for 115,000 steps (230,001 nodes);
- ``relu-chain-230k``: bench_scale.py's chain ``x = relu(x * w + c)`` over a
  pool of 64 leaf pairs, about 230,000 nodes;

it calls ``render(path)`` with every other argument at its default and
reports the pixel size of the PNG written, the seconds spent inside the
Graphviz ``dot`` program (every ``dot`` subprocess of the call, summed, so
this does not depend on how the library calls it) and the seconds of the
whole call (best of ``--repeat``), plus the nodes drawn (records in the
picture) and the nodes in the graph. Then ``render(show=True)`` with
Pillow's ``Image.show`` replaced by a fake that records the image size: the
column says ``shown WxH`` or the exception it raised (before the fix a
100,000-node picture raised Pillow's ``DecompressionBombError`` in
``Image.open``, which is left real). No window is opened and no display is
needed.

    python -m benchmarks.bench_pictures            # a few seconds (minutes before the pictures were bounded)
    python -m benchmarks.bench_pictures --repeat 3
"""

from __future__ import annotations

import argparse
import os
import random
import re
import struct
import subprocess
import sys
import tempfile
import time

from scalargrad import Scalar
from scalargrad import functional as F
from scalargrad.data import make_moons
from scalargrad.nn import HingeLoss, Linear, Sequential, init

from .bench_scale import build_chain

_real_run = subprocess.run
_dot_seconds = [0.0]


def _timed_run(args, *rest, **kwargs):
    """subprocess.run, adding the wall time of every ``dot`` call to ``_dot_seconds``."""
    start = time.perf_counter()
    try:
        return _real_run(args, *rest, **kwargs)
    finally:
        if isinstance(args, (list, tuple)) and os.path.basename(str(args[0])).startswith("dot"):
            _dot_seconds[0] += time.perf_counter() - start


def chain(steps: int) -> Scalar:
    """``y = y * 1.0001 + x``, ``steps`` times: 2 * steps + 1 nodes in one long line."""
    x = Scalar(0.5, name="x")
    y = x
    for _ in range(steps):
        y = y * 1.0001 + x
    return y


def moons_loss() -> Scalar:
    """The loss of examples/moons.py's first step (2-16-16-1, 100 points, hinge loss + L2),
    back-propagated."""
    x, y = make_moons(n_samples=100, noise=0.1, seed=0)
    y = [2 * t - 1 for t in y]
    random.seed(0)
    model = Sequential([Linear(2, 16, activation="relu"), Linear(16, 16, activation="relu"), Linear(16, 1)])
    for layer in model.modules:
        init.uniform_(layer, -1.0, 1.0)
        init.zeros_([neuron.b for neuron in layer.neurons])
    params = model.parameters()
    loss = HingeLoss()([model(point) for point in x], y) + 1e-4 * F.dot(params, params)
    loss.backward()
    return loss


def graph_size(root: Scalar) -> int:
    seen, stack = {id(root)}, [root]
    while stack:
        for p in stack.pop().parents:
            if id(p) not in seen:
                seen.add(id(p))
                stack.append(p)
    return len(seen)


def png_size(data: bytes) -> tuple[int, int]:
    """Width and height from a PNG's header (no decoding: a huge PNG is not a problem here)."""
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG")
    return struct.unpack(">II", data[16:24])


def measure(name: str, root: Scalar, repeat: int, folder: str) -> dict:
    from PIL import Image

    path = os.path.join(folder, f"{name}.png")
    best_total = best_dot = float("inf")
    for _ in range(repeat):
        _dot_seconds[0] = 0.0
        start = time.perf_counter()
        dot = root.render(path)
        best_total = min(best_total, time.perf_counter() - start)
        best_dot = min(best_dot, _dot_seconds[0])
    with open(path, "rb") as f:
        width, height = png_size(f.read())
    drawn = len(re.findall(r"shape=record", dot.source))

    shown = []
    real_show = Image.Image.show
    Image.Image.show = lambda image, *args, **kwargs: shown.append(image.size)
    try:
        root.render(show=True)
        show = f"shown {shown[0][0]}x{shown[0][1]}" if shown else "nothing shown"
    except Exception as error:  # noqa: BLE001 - the column reports whatever show=True raised
        show = f"{type(error).__name__}"
    finally:
        Image.Image.show = real_show
    return {"graph": name, "nodes": graph_size(root), "drawn": drawn, "png": f"{width} x {height}",
            "dot s": f"{best_dot:.2f}", "render s": f"{best_total:.2f}", "show=True": show}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=1, help="renders per graph; the best time is kept")
    args = parser.parse_args(argv)
    subprocess.run = _timed_run
    graphs = [("chain-100k", lambda: chain(50_000)), ("moons-loss", moons_loss),
              ("chain-230k", lambda: chain(115_000)), ("relu-chain-230k", lambda: build_chain(230_000, 0)[0])]
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for name, build in graphs:
            rows.append(measure(name, build(), args.repeat, folder))
    subprocess.run = _real_run
    columns = list(rows[0])
    widths = [max(len(c), *(len(str(r[c])) for r in rows)) for c in columns]
    print(f"python {sys.version.split()[0]}, {sys.platform}")
    print("  ".join(c.ljust(w) for c, w in zip(columns, widths)))
    for row in rows:
        print("  ".join(str(row[c]).ljust(w) for c, w in zip(columns, widths)))


if __name__ == "__main__":
    main()
