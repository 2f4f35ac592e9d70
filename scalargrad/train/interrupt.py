"""Ctrl-C during training: the first press asks the Trainer to stop at the next batch boundary, a second
aborts at once."""

from __future__ import annotations

import signal
import threading
from typing import Any, Callable

__all__ = ["CtrlCHandler"]


class CtrlCHandler:
    """Between ``install()`` and ``uninstall()``, SIGINT calls ``request_stop`` instead of raising.

    ``stop_requested()`` tells whether a stop is already pending: then a
    second Ctrl-C raises KeyboardInterrupt as usual. Signal handlers can only
    be installed from the main thread; elsewhere (or without signals) the
    handler stays inactive and ``installed`` is False, so a Ctrl-C arrives as
    KeyboardInterrupt.
    """

    def __init__(self, stop_requested: Callable[[], bool], request_stop: Callable[[], None]) -> None:
        self.stop_requested = stop_requested
        self.request_stop = request_stop
        self.installed = False
        self._previous: Any = None

    def _on_sigint(self, signum: int, frame: Any) -> None:
        if self.stop_requested():
            raise KeyboardInterrupt
        self.request_stop()

    def install(self) -> None:
        """Take over SIGINT (from the main thread only), remembering the handler to give it back to."""
        self.installed = False
        if threading.current_thread() is not threading.main_thread():
            return
        try:
            previous = signal.getsignal(signal.SIGINT)
            signal.signal(signal.SIGINT, self._on_sigint)
        except (ValueError, OSError, AttributeError):  # e.g. an embedded interpreter without signals
            return
        self.installed = True
        self._previous = signal.SIG_DFL if previous is None else previous

    def uninstall(self) -> None:
        """Give SIGINT back to the handler it had before ``install()``."""
        if self.installed:
            signal.signal(signal.SIGINT, self._previous)
            self.installed = False
