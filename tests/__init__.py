"""scalargrad's tests, by layer: ``core`` (the engine and nn, fast) and ``train`` (training and all around it,
slower).

They are written for pytest; ``python -m unittest`` runs them too, through pytest (see
``unittest_bridge.py``). Shared code for the test modules: ``tests.helpers`` (torch float64 references) and
``tests.kernel`` (a real Jupyter kernel). See README.md in this folder.
"""
