"""Optional plots for the examples: matplotlib is not required, so a missing piece skips the plot.

``save_plot('plot_history', history, path='h.png')`` calls
``scalargrad.viz.plot_history(history, path='h.png')`` and prints where the
file went. Without matplotlib (or with a scalargrad that lacks the function)
it prints a note instead; the training results are unaffected.
"""


def save_plot(name, *args, path, **kwargs):
    """Call ``scalargrad.viz.<name>(*args, path=path, **kwargs)``; True if the file was written."""
    from scalargrad import viz

    plot = getattr(viz, name, None)
    if plot is None:
        print(f"note: this scalargrad has no scalargrad.viz.{name}; skipping the plot {path}")
        return False
    try:
        plot(*args, path=path, **kwargs)
    except ImportError as e:  # matplotlib (or numpy) is not installed
        print(f"note: skipping the plot {path}: {e}")
        return False
    print(f"plot written to {path}")
    return True
