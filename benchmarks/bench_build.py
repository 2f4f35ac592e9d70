"""Building a model attribute by attribute: the time must grow linearly with the number of layers.

Each ``setattr`` on a Module names the parameters that just joined it. The
benchmark builds ``n`` layers of ``Linear(60, 60)`` set one by one as
attributes of a Module, for n = 10, 20 and 40, and prints the time per
layer (best of 3) and the ratio of the n = 40 time per layer to the n = 10
one (target: within 1.5x, i.e. linear; naming by re-walking the whole model
at each attribute made it about 3x).

Run: ``python -m benchmarks.bench_build``
"""

from __future__ import annotations

import time

from scalargrad.nn import Linear, Module


class _Stack(Module):
    def __init__(self, n: int) -> None:
        super().__init__()
        for i in range(n):
            setattr(self, f"layer{i}", Linear(60, 60))


def per_layer_seconds(n: int, repeats: int = 3) -> float:
    """Best-of-``repeats`` time to build ``n`` attributes, divided by ``n``."""
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        _Stack(n)
        best = min(best, time.perf_counter() - start)
    return best / n


def main() -> None:
    """Print the time per layer for each size and the ratio of the largest to the smallest."""
    times = {n: per_layer_seconds(n) for n in (10, 20, 40)}
    for n, t in times.items():
        print(f"{n:3d} layers of Linear(60, 60) as attributes: {t * 1e3:7.2f} ms per layer")
    ratio = times[40] / times[10]
    print(f"ratio 40/10 per layer: {ratio:.2f}x (target <= 1.5x): {'ok' if ratio <= 1.5 else 'NOT LINEAR'}")


if __name__ == "__main__":
    main()
