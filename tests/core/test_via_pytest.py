"""unittest's way into this folder: ``python -m unittest discover -v tests/core``.

The tests here are written for pytest, so unittest alone finds none of them; this module's hook
hands it the folder's tests, run by pytest and reported one by one (see ``tests/unittest_bridge.py``).
"""

from pathlib import Path

from tests.unittest_bridge import folder_suite


def load_tests(loader, tests, pattern):
    """unittest's hook: every test of this folder, as ``python -m pytest tests/core`` runs it."""
    return folder_suite(Path(__file__).parent, loader)
