"""The install is reproducible: every test and docs tool is pinned, and CI runs the README's test command.

A fresh machine gets the newest release of anything left unpinned, and a test tool's new release
can change what the tests draw (hypothesis's derandomized examples did). So every name the
requirements files install has an exact pin in ``constraints.txt``, the ``test`` extra agrees with
it, and ``.ci/run`` runs the very lines the README gives a newcomer.
"""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _canonical(name: str) -> str:
    """A package name as pip compares them: case and runs of - _ . do not matter."""
    return re.sub(r"[-_.]+", "-", name).lower()


def _lines(path: Path):
    """The lines of a requirements file, without comments and blank lines."""
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            yield line


def _requirement_lines(path: Path):
    """The requirement lines of a requirements file: no pip options (``-c``, ``-r``)."""
    return (line for line in _lines(path) if not line.startswith("-"))


def _pins(path: Path) -> dict:
    """name -> version of a file of exact pins; anything that is not `name==version` fails the test
    (pip refuses an option such as ``-e .`` in a constraints file)."""
    pins = {}
    for line in _lines(path):
        match = re.fullmatch(r"([A-Za-z0-9][A-Za-z0-9._-]*)==([0-9][0-9A-Za-z.]*)", line)
        assert match, f"{path.name}: {line!r} is not an exact pin (name==version, no local label)"
        name = _canonical(match[1])
        assert name not in pins, f"{path.name} pins {name} twice"
        pins[name] = match[2]
    return pins


def _names(path: Path) -> list:
    """The bare package names a requirements file asks for (versions come from the constraints)."""
    names = []
    for line in _requirement_lines(path):
        assert re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", line), (
            f"{path.name}: {line!r} carries its own version; pins belong in constraints.txt")
        names.append(_canonical(line))
    return names


@pytest.mark.parametrize("requirements", ["requirements.txt", "requirements-docs.txt"])
def test_every_requirement_is_pinned_by_the_constraints(requirements):
    path = ROOT / requirements
    assert "-c constraints.txt" in path.read_text(encoding="utf-8").splitlines(), (
        f"{requirements} does not apply constraints.txt")
    pins = _pins(ROOT / "constraints.txt")
    unpinned = [name for name in _names(path) if name not in pins]
    assert not unpinned, f"{requirements} installs {unpinned} with no pin in constraints.txt"


def test_torch_is_pinned_to_the_version_the_tests_compare_against():
    assert _pins(ROOT / "constraints.txt")["torch"] == "2.13.0"


def test_the_pypy_tools_are_pinned():
    assert {"pytest", "hypothesis", "parameterized"} <= set(_pins(ROOT / "requirements-pypy.txt"))


def test_the_test_extra_agrees_with_the_constraints():
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    pins = _pins(ROOT / "constraints.txt")
    for requirement in project["optional-dependencies"]["test"]:
        name, _, version = requirement.partition("==")
        assert version, f"the test extra leaves {requirement!r} unpinned"
        assert pins[_canonical(name)] == version, (
            f"the test extra pins {requirement}, constraints.txt {name}=={pins[_canonical(name)]}")


def _readme_test_command() -> list:
    """The lines of the README's test command: the bash block that ends in `python -m pytest -q`."""
    blocks = re.findall(r"```bash\n(.*?)```", (ROOT / "README.md").read_text(encoding="utf-8"), re.DOTALL)
    commands = {block for block in blocks if block.rstrip().endswith("python -m pytest -q")}
    assert len(commands) == 1, f"the README gives {len(commands)} different test commands: {sorted(commands)}"
    return commands.pop().strip().splitlines()


def test_the_readme_test_command_installs_the_cpu_torch_first():
    command = " ".join(_readme_test_command())
    assert command.index("torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu") < command.index(
        "-r requirements.txt")


def test_ci_runs_the_readme_test_command_in_a_fresh_virtual_environment():
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    command = "\n".join(_readme_test_command())
    assert command in ci, ".ci/run does not run the README's test command as the README gives it"
    venv = ci.index("-m venv")
    assert venv < ci.index("bin/activate") < ci.index(command), ".ci/run runs the tests outside a fresh venv"
