"""Test collection: modules that compare against a reference library are left out where it is missing.

On CPython CI every library is installed and every module runs. On PyPy,
where torch, numpy and Pillow are not available, the rest of the suite (the
engine's own behaviour, nn, training, data, examples, README) still runs.
"""

import importlib.util

_NEEDS = {
    "test_scalar.py": "torch",
    "test_functional.py": "torch",
    "test_layers.py": "torch",
    "test_losses.py": "torch",
    "test_module.py": "torch",
    "test_data.py": "numpy",
    "test_viz.py": "PIL",
}

collect_ignore = ["helpers.py"] + [name for name, package in _NEEDS.items()
                                   if importlib.util.find_spec(package) is None]
