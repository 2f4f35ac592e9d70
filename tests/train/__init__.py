"""Training and all around it: data, the Trainer, checkpoints and files, killed runs, pictures, examples, docs
(slower).

``load_tests`` is unittest's hook when it finds this folder as a package (``python -m unittest
discover tests``, or ``python -m unittest`` from the root): this folder's tests, run by pytest.
"""

from .test_via_pytest import load_tests  # noqa: F401
