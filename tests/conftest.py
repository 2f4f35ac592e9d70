"""Test collection: modules that compare against a reference library are left out where it is missing.

On CPython CI every library is installed and every module runs. On PyPy,
where torch, numpy and Pillow are not available, the rest of the suite (the
engine's own behaviour, nn, training, data, examples, README) still runs.

Property-based tests (``test_property_*.py``) take their Hypothesis settings
from two profiles registered here: ``ci`` (the default: a few hundred examples
per property) and ``slow`` (thousands), chosen with ``pytest --slow``. Both are
derandomized and keep no example database, so every run draws the same
examples and a failure seen in CI reproduces locally.
"""

import importlib.util

from tests.browser import browser, page  # noqa: F401 (the browser tests' fixtures)
from tests.graphs import dot_program  # noqa: F401 (the picture tests' fixture)

_NEEDS = {
    "test_scalar.py": "torch",
    "test_functional.py": "torch",
    "test_layers.py": "torch",
    "test_losses.py": "torch",
    "test_module.py": "torch",
    "test_property_graphs.py": "torch",
    "test_compile_property.py": "torch",
    "test_autograd.py": "torch",
    "test_extend.py": "torch",
    "test_reliability.py": "torch",
    "test_property_logits.py": "torch",
    "test_hostile_inputs.py": "torch",
    "test_interop_settings.py": "torch",
    "test_property_loading.py": "hypothesis",
    "test_data.py": "numpy",
    "test_numpy.py": "numpy",
    "test_viz.py": "PIL",
    "test_notebook_train.py": "nbclient",
    "test_nested_ops.py": "torch",
    "test_elementwise.py": "torch",
    "test_reductions.py": "torch",
    "test_shapes.py": "torch",
    "test_functional_losses.py": "torch",
    "test_batch_modules.py": "torch",
    "test_micrograd_lecture.py": "torch",
    "test_mnist.py": "numpy",
    "test_backward.py": "torch",
    "test_tutorial.py": "nbclient",
    "test_notebook_viz.py": "nbclient",
    "test_explore.py": "torch",
    "test_explore_browser.py": "playwright",
    "test_site_browser.py": "playwright",
    "test_playground_browser.py": "playwright",
    "test_learn_browser.py": "playwright",
    "test_docs_site.py": "mkdocs",
    "test_callback_semantics.py": "torch",
    "test_checks_and_nested.py": "torch",
    "test_rule_float_check.py": "torch",
    "test_parallel.py": "parameterized",
    "test_parallel_dask.py": "distributed",
}

collect_ignore = ["bits.py", "browser.py", "graphs.py", "helpers.py", "kernel.py"]
_LEFT_OUT = {name for name, package in _NEEDS.items() if importlib.util.find_spec(package) is None}


def pytest_ignore_collect(collection_path):
    """Leave out a module of ``_NEEDS`` whose library is missing, by its file name, in whichever folder it
    lives."""
    return True if collection_path.name in _LEFT_OUT else None


if importlib.util.find_spec("hypothesis") is not None:
    from hypothesis import HealthCheck, settings

    # derandomize: the same examples on every run; deadline=None: the first example pays for imports and
    # torch's warm-up, and a 2-core CI machine is noisy; too_slow: drawing a 50-op graph takes a while.
    settings.register_profile("ci", max_examples=300, derandomize=True, database=None, deadline=None,
                              print_blob=False, suppress_health_check=[HealthCheck.too_slow])
    settings.register_profile("slow", settings.get_profile("ci"), max_examples=3000)
    settings.load_profile("ci")


def pytest_addoption(parser):
    parser.addoption("--slow", action="store_true", default=False,
                     help="run the property-based tests with thousands of examples each "
                          "(hypothesis profile 'slow')")


def pytest_configure(config):
    if config.getoption("--slow") and importlib.util.find_spec("hypothesis") is not None:
        from hypothesis import settings

        settings.load_profile("slow")
