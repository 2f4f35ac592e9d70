"""Is this code running in a Jupyter kernel? The one check that pictures, plots and progress bars share.

IPython is looked at only when it is already imported (a kernel imports it
first), so a script pays nothing for asking.
"""

from __future__ import annotations

import sys
from typing import Any

__all__ = ["in_notebook", "ipython_shell"]


def ipython_shell() -> Any:
    """The running IPython shell, or None (never imports IPython)."""
    ipython = sys.modules.get("IPython")
    get_ipython = getattr(ipython, "get_ipython", None)
    if get_ipython is None:
        return None
    try:
        return get_ipython()
    except Exception:  # noqa: BLE001 - a half-initialised IPython is "no shell"
        return None


def in_notebook() -> bool:
    """True inside a Jupyter kernel (a notebook, JupyterLab, VS Code's notebooks, Colab, ...).

    A terminal IPython session is not a notebook: it has no kernel, so pictures
    go to a viewer or a file there and progress to the terminal, as in a script.
    """
    shell = ipython_shell()
    if shell is None:
        return False
    if getattr(shell, "kernel", None) is not None:
        return True
    try:
        return "IPKernelApp" in shell.config
    except Exception:  # noqa: BLE001 - an unusual shell without a config
        return False
