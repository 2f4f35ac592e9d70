"""unittest runs the real tests: ``python -m unittest discover -v tests/core`` (and tests/train, tests, the
root).

A sample folder of pytest tests, one of each outcome, goes through the real entry module
(``test_via_pytest.py``, copied in) in a real ``python -m unittest`` process: each test must come
back under its pytest id with the outcome pytest gave it, the count must be pytest's own, and a
folder with no tests, or with a module that does not import, must fail. The real folders are
checked as unittest loads them (one pytest run each, nothing else), and the train command runs
one real test end to end.
"""

import importlib.util
import json
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests import conftest

ROOT = Path(__file__).resolve().parents[2]
TESTS = ROOT / "tests"
ENTRY = Path(__file__).with_name("test_via_pytest.py")

SAMPLE = '''
import pytest

def test_passes():
    assert 1 + 1 == 2

def test_fails():
    print("printed before failing")
    assert 1 + 1 == 3, "one plus one"

@pytest.fixture
def broken():
    raise RuntimeError("the fixture broke")

def test_set_up_fails(broken):
    pass

def test_skipped():
    pytest.skip("not on this machine")

@pytest.mark.xfail(reason="a known bug")
def test_known_bug():
    assert False

@pytest.mark.parametrize("n", [1, 2])
def test_with_tmp_path(n, tmp_path):
    (tmp_path / "n").write_text(str(n))
    assert (tmp_path / "n").read_text() == str(n)
'''

# What `python -m unittest discover <start>` loads, printed as JSON: the folders of its pytest runs,
# any other test it found (which would run twice: pytest runs unittest-style tests too), import errors.
LOAD = '''
import json, sys, unittest
from tests.unittest_bridge import PytestRun

def walk(suite):
    for test in suite:
        if isinstance(test, PytestRun):
            yield "run", [str(path) for path in test.paths]
        elif isinstance(test, unittest.TestSuite):
            yield from walk(test)
        else:
            yield "other", test.id()

loader = unittest.TestLoader()
found = list(walk(loader.discover(sys.argv[1])))
print(json.dumps({"runs": [x for kind, x in found if kind == "run"],
                  "others": [x for kind, x in found if kind == "other"], "errors": loader.errors}))
'''

needs_every_library = pytest.mark.skipif(
    any(importlib.util.find_spec(package) is None for package in set(conftest._NEEDS.values())),
    reason="unittest imports every test module of a folder, "
           "and some compare against torch, numpy, Pillow, ...")


def unittest_run(*args):
    """``python -m unittest <args>`` from the repository root: (exit status, what it printed)."""
    done = subprocess.run([sys.executable, "-m", "unittest", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=600, check=False)
    return done.returncode, done.stdout + done.stderr


def sample_folder(tmp_path, **modules):
    """A folder with the real entry module and the given test modules (name -> source)."""
    folder = tmp_path / "sample"
    folder.mkdir()
    (folder / ENTRY.name).write_text(ENTRY.read_text(encoding="utf-8"), encoding="utf-8")
    # Its own pytest.ini makes the folder pytest's rootdir, so test ids read "test_sample.py::..." wherever
    # the checkout and the temporary folder are (without it, a checkout under /tmp gave "pytest-of-root/...").
    (folder / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")
    for name, source in modules.items():
        (folder / f"{name}.py").write_text(source, encoding="utf-8")
    return folder


def outcomes(output):
    """{pytest id: what unittest -v printed after it} for the test lines of a run."""
    return dict(re.findall(r"^(\S+::\S+) \.\.\. (.+)$", output, flags=re.MULTILINE))


def test_every_outcome_reaches_unittest_under_its_pytest_id(tmp_path):
    folder = sample_folder(tmp_path, test_sample=SAMPLE)
    status, output = unittest_run("discover", "-v", str(folder))
    assert status == 1, output
    assert outcomes(output) == {
        "test_sample.py::test_passes": "ok",
        "test_sample.py::test_fails": "FAIL",
        "test_sample.py::test_set_up_fails": "ERROR",
        "test_sample.py::test_skipped": "skipped 'not on this machine'",
        "test_sample.py::test_known_bug": "expected failure",
        "test_sample.py::test_with_tmp_path[1]": "ok",
        "test_sample.py::test_with_tmp_path[2]": "ok",
    }, output
    # the failure shows pytest's report and what the test printed; the error, what broke
    failure = output.split("FAIL: test_sample.py::test_fails")[1]
    assert "AssertionError: one plus one" in failure and "printed before failing" in failure, output
    assert "RuntimeError: the fixture broke" in output.split("ERROR: test_sample.py::test_set_up_fails")[1]
    assert "Ran 7 tests" in output, output  # the seven above, no more
    assert "FAILED (failures=1, errors=1, skipped=1, expected failures=1)" in output, output


def test_k_selects_by_pytest_id_and_f_stops_at_the_first_failure(tmp_path):
    folder = sample_folder(tmp_path, test_sample=SAMPLE)
    status, output = unittest_run("discover", "-v", str(folder), "-k", "tmp_path")
    assert status == 0 and list(outcomes(output)) == ["test_sample.py::test_with_tmp_path[1]",
                                                      "test_sample.py::test_with_tmp_path[2]"], output
    assert "Ran 2 tests" in output and "\nOK" in output, output
    status, output = unittest_run("discover", "-v", "-f", str(folder))
    assert status == 1 and outcomes(output) == {"test_sample.py::test_passes": "ok",
                                                "test_sample.py::test_fails": "FAIL"}, output


def test_a_folder_without_tests_fails_and_says_what_to_run(tmp_path):
    folder = sample_folder(tmp_path)
    status, output = unittest_run("discover", "-v", str(folder))
    assert status == 1 and "Ran 1 test" in output and "FAILED (errors=1)" in output, output
    assert "pytest found no tests to run here" in output and f"python -m pytest {folder}" in output, output


def test_a_module_that_does_not_import_is_an_error(tmp_path):
    folder = sample_folder(tmp_path, test_sample=SAMPLE, test_broken="import a_module_nobody_wrote\n")
    status, output = unittest_run("discover", "-v", str(folder))
    assert status == 1 and outcomes(output) == {}, output
    assert "ERROR: test_broken.py" in output and "No module named 'a_module_nobody_wrote'" in output, output
    assert "exit status 2 (interrupted)" in output, output  # and pytest, as always, ran none of the others


def test_every_test_module_lives_in_a_folder_unittest_runs():
    """tests/core and tests/train hold every test module, so their two unittest commands run everything."""
    stray = sorted(path.name for path in TESTS.glob("test*.py"))
    assert not stray, f"move {stray} into tests/core (engine, nn) or tests/train (training and around it)"
    for folder in (path for path in TESTS.iterdir() if path.is_dir() and any(path.glob("test_*.py"))):
        hook = "from .test_via_pytest import load_tests"
        assert (folder / ENTRY.name).is_file() \
            and hook in (folder / "__init__.py").read_text(encoding="utf-8"), (
                f"unittest runs tests/{folder.name} only with a copy of tests/core's {ENTRY.name} "
                "and __init__.py")
    named = set(conftest._NEEDS)
    assert named <= {path.name for path in TESTS.rglob("test_*.py")}, \
        "conftest._NEEDS names a module that is gone"


def load(start):
    """What ``python -m unittest discover <start>`` loads, in a fresh process as the command does."""
    done = subprocess.run([sys.executable, "-c", LOAD, start], cwd=ROOT, capture_output=True, text=True,
                          timeout=600, check=False)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.splitlines()[-1])


def test_the_tests_and_root_commands_load_one_pytest_run_per_folder():
    """The packages' hooks: `discover tests` and `python -m unittest` run tests/core, then tests/train."""
    with ThreadPoolExecutor(2) as pool:
        for loaded in pool.map(load, ["tests", "."]):
            assert loaded == {"runs": [[str(TESTS / "core")], [str(TESTS / "train")]], "others": [],
                              "errors": []}


@needs_every_library
def test_the_core_command_imports_every_core_module_and_loads_one_pytest_run():
    """unittest imports each module of the folder it starts in: each must import, and bring no test of its
    own."""
    assert load("tests/core") == {"runs": [[str(TESTS / "core")]], "others": [], "errors": []}


@needs_every_library
def test_the_train_command_runs_a_real_test_end_to_end():
    status, output = unittest_run("discover", "-v", "tests/train", "-k",
                                  "test_every_test_module_lives_in_a_folder")
    assert status == 0, output
    assert outcomes(output) == {"tests/train/test_unittest_bridge.py::"
                                "test_every_test_module_lives_in_a_folder_unittest_runs": "ok"}, output
    assert "Ran 1 test" in output and "\nOK" in output, output
