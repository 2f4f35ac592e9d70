"""Install scalargrad: `pip install .` (core, no dependencies) or `pip install ".[all]"`."""

from pathlib import Path

from setuptools import find_packages, setup

HERE = Path(__file__).parent

EXTRAS = {
    "viz": ["graphviz", "pillow"],
    "plot": ["matplotlib"],
    "progress": ["tqdm"],
    "data": ["scikit-learn"],
    "test": ["torch==2.13.0", "parameterized", "pytest", "numpy", "hypothesis"],
}
EXTRAS["all"] = sorted({req for reqs in EXTRAS.values() for req in reqs})

setup(
    name="scalargrad",
    version="0.2.0",
    description="A pure-Python scalar autograd engine with a small neural-network library",
    long_description=(HERE / "README.md").read_text(encoding="utf-8"),
    long_description_content_type="text/markdown",
    license="MIT",
    packages=find_packages(include=["scalargrad", "scalargrad.*"]),
    python_requires=">=3.9",
    install_requires=[],
    extras_require=EXTRAS,
    classifiers=[
        "Programming Language :: Python :: 3",
        "Programming Language :: Python :: Implementation :: CPython",
        "Programming Language :: Python :: Implementation :: PyPy",
        "License :: OSI Approved :: MIT License",
        "Topic :: Scientific/Engineering :: Artificial Intelligence",
    ],
)
