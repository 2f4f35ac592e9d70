"""The tests under unittest: ``python -m unittest discover -v tests/core`` runs them with pytest, one line per
test.

The tests are written for pytest (plain functions and classes, parametrized cases, fixtures such as
``tmp_path``, hypothesis), so unittest on its own finds none of them. Each test folder has a module
``test_via_pytest.py`` (its package's ``__init__.py`` shares it) whose ``load_tests`` hook hands
unittest a ``PytestRun``: run, it starts ``python -m pytest <folder>`` in a child process and reports
each test pytest runs as one unittest test, named by its pytest id, as it starts and as it ends:
``ok``, ``FAIL`` (the test failed), ``ERROR`` (its set-up or tear-down failed, or its module did not
import), ``skipped``, ``expected failure`` (xfail), ``unexpected success`` (xfail that passed). A
failure's message is pytest's report, with the output the test captured.

"Ran N tests" counts the tests pytest ran, and unittest fails whenever pytest does: a run that
collects no test, stops early or ends in any other way pytest calls a failure is reported as an
ERROR that says what to run instead. unittest's ``-k`` selects tests by their pytest id, ``-f``
stops at the first failure.

Inside the child, this module is a pytest plugin (``-p tests.unittest_bridge``) that writes one
JSON line per event to the file named by ``SCALARGRAD_UNITTEST_EVENTS``; the parent reads the file
as it grows.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
import unittest
from fnmatch import fnmatchcase
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EVENTS_FILE = "SCALARGRAD_UNITTEST_EVENTS"
PATTERNS = "SCALARGRAD_UNITTEST_PATTERNS"
EXIT_STATUS = {2: "interrupted", 3: "internal error", 4: "usage error", 5: "no tests collected"}
LOG_LINES = 40  # how much of pytest's own output a session error shows


def folder_suite(folder: Path, loader: unittest.TestLoader) -> PytestRun:
    """What a folder's ``load_tests`` returns: its tests, run by pytest, selected by unittest's ``-k``."""
    return PytestRun([folder], loader.testNamePatterns)


class FailedInPytest(Exception):
    """A test's failure as pytest reported it: its traceback and captured output are the message."""


class PytestTest(unittest.TestCase):
    """One test that pytest ran, as unittest's result sees it: named by its pytest id."""

    def __init__(self, test_id: str):
        super().__init__()
        self.test_id = test_id

    def id(self) -> str:
        return self.test_id

    def __str__(self) -> str:
        return self.test_id

    def shortDescription(self) -> None:
        return None


class PytestRun(unittest.TestSuite):
    """The tests ``python -m pytest <paths>`` runs, reported to a unittest result one by one as they run.

    ``patterns`` are unittest's ``-k`` patterns (fnmatch patterns, as unittest stores them), matched
    against pytest ids. ``root`` is the folder pytest starts in (its ``pytest.ini``, its ``tests`` package).
    """

    def __init__(self, paths: list[Path], patterns: list[str] | None = None, root: Path = ROOT):
        super().__init__()
        self.paths = [Path(path).resolve() for path in paths]
        self.patterns = list(patterns or [])
        self.root = root

    def command_line(self) -> str:
        """The pytest command a reader runs for pytest's own report of these tests."""
        shown = [os.path.relpath(path, self.root) if path.is_relative_to(self.root) else str(path)
                 for path in self.paths]
        return " ".join(["python -m pytest", *shown])

    def run(self, result: unittest.TestResult, debug: bool = False) -> unittest.TestResult:
        with tempfile.TemporaryDirectory() as scratch:
            events_path, log_path = Path(scratch) / "events.jsonl", Path(scratch) / "pytest.log"
            events_path.touch()
            env = dict(os.environ, **{EVENTS_FILE: str(events_path), PATTERNS: json.dumps(self.patterns)})
            command = [sys.executable, "-m", "pytest", *map(str, self.paths), "-p", "tests.unittest_bridge",
                       "-q"]
            with open(log_path, "wb") as log:
                child = subprocess.Popen(command, cwd=self.root, env=env, stdout=log,
                                         stderr=subprocess.STDOUT)
            try:
                self._report(child, events_path, log_path, result)
            finally:
                if child.poll() is None:  # unittest stopped early (-f, Ctrl-C): so does pytest
                    child.kill()
                    child.wait()
        return result

    def _report(self, child: subprocess.Popen, events_path: Path, log_path: Path,
                result: unittest.TestResult) -> None:
        started: dict[str, PytestTest] = {}
        collected, ended, failing = None, 0, 0
        for event in _follow(events_path, child):
            if event["event"] == "collected":
                collected = event["count"]
            elif event["event"] == "start":
                started[event["id"]] = test = PytestTest(event["id"])
                result.startTest(test)
            elif event["event"] in ("end", "module"):
                test = started.pop(event["id"], None)
                if test is None:  # a module that failed to import or was skipped: no test started
                    test = PytestTest(event["id"])
                    result.startTest(test)
                if event["event"] == "end":
                    ended += 1
                if _record(result, test, event):
                    failing += 1
                result.stopTest(test)
            if result.shouldStop:
                return
        problem = _session_problem(child.wait(), collected, ended, failing, bool(self.patterns))
        if problem:
            log = log_path.read_text(encoding="utf-8", errors="replace").splitlines()[-LOG_LINES:]
            test = PytestTest(self.command_line())
            result.startTest(test)
            message = (f"{problem}. For pytest's own report run: {self.command_line()}\n"
                       f"The last lines it printed:\n" + "\n".join(log))
            result.addError(test, (FailedInPytest, FailedInPytest(message), None))
            result.stopTest(test)


def _record(result: unittest.TestResult, test: PytestTest, event: dict) -> bool:
    """Hand one finished test's outcome to unittest; whether it counts as failing."""
    outcome, text = event.get("outcome", "error"), event.get("text", "")
    failure = (FailedInPytest, FailedInPytest("pytest's report:\n" + text), None)
    if outcome == "success":
        result.addSuccess(test)
    elif outcome == "skip":
        result.addSkip(test, text)
    elif outcome == "expected failure":
        result.addExpectedFailure(test, failure)
    elif outcome == "unexpected success":
        result.addUnexpectedSuccess(test)
    elif outcome == "failure":
        result.addFailure(test, failure)
        return True
    else:
        result.addError(test, failure)
        return True
    return False


def _session_problem(status: int, collected: int | None, ended: int, failing: int,
                     selected: bool) -> str | None:
    """What went wrong with the pytest run as a whole (None when its exit status agrees with its tests)."""
    if status == 5 and not failing:
        if selected:  # unittest's -k matched nothing here: that is the user's choice, as in unittest
            return None
        return "pytest found no tests to run here, so nothing was tested"
    if status not in (0, 1):
        meaning = EXIT_STATUS.get(status, "killed by a signal" if status < 0 else "unknown")
        return f"pytest stopped with exit status {status} ({meaning}) after {ended} tests"
    if collected is None or ended != collected:
        return f"pytest reported {ended} tests of the {collected} it collected"
    if status == 1 and not failing:
        return "pytest failed (exit status 1) with no failing test to show"
    return None


def _follow(path: Path, child: subprocess.Popen):
    """The child's events, read from its file as it writes them, until it has exited and all are read."""
    with open(path, encoding="utf-8") as events:
        pending = ""
        while True:
            exited = child.poll() is not None  # looked at before reading: nothing it wrote is missed
            line = events.readline()
            while line:
                pending += line
                if pending.endswith("\n"):
                    yield json.loads(pending)
                    pending = ""
                line = events.readline()
            if exited:
                return
            time.sleep(0.02)


# ---- Inside the pytest child: the plugin that writes the events ----

def pytest_configure(config) -> None:
    """pytest's hook: report to the parent, when it started this run."""
    if os.environ.get(EVENTS_FILE):
        patterns = json.loads(os.environ.get(PATTERNS) or "[]")
        config.pluginmanager.register(EventWriter(Path(os.environ[EVENTS_FILE]), patterns), "unittest-bridge")


class EventWriter:
    """Writes what pytest does, one JSON line per event: collected, a test's start and end, an import
    error."""

    def __init__(self, path: Path, patterns: list[str]):
        self.events = open(path, "a", encoding="utf-8")  # noqa: SIM115 (open for the run, closed at unconfigure)
        self.patterns = patterns
        self.reports: dict[str, list] = {}

    def write(self, **event) -> None:
        self.events.write(json.dumps(event) + "\n")
        self.events.flush()

    def pytest_collection_modifyitems(self, config, items) -> None:
        """unittest's -k: keep the tests whose pytest id matches one of its patterns."""
        if self.patterns:
            kept, left = [], []
            for item in items:
                (kept if any(fnmatchcase(item.nodeid, p) for p in self.patterns) else left).append(item)
            config.hook.pytest_deselected(items=left)
            items[:] = kept

    def pytest_collectreport(self, report) -> None:
        """A module that failed to import is an ERROR; one skipped whole (``importorskip``) is skipped."""
        if report.failed or report.skipped:
            self.write(event="module", id=report.nodeid or "collecting", **outcome([report]))

    def pytest_collection_finish(self, session) -> None:
        self.write(event="collected", count=len(session.items))

    def pytest_runtest_logstart(self, nodeid, location) -> None:
        self.write(event="start", id=nodeid)

    def pytest_runtest_logreport(self, report) -> None:
        self.reports.setdefault(report.nodeid, []).append(report)
        if report.when == "teardown":  # the last of a test's reports (set-up, call, tear-down)
            self.write(event="end", id=report.nodeid, **outcome(self.reports.pop(report.nodeid)))

    def pytest_unconfigure(self) -> None:
        self.events.close()


def outcome(reports: list) -> dict:
    """unittest's word for one test's result, from pytest's reports of its set-up, call and tear-down."""
    failed = [report for report in reports if report.failed]
    call = next((report for report in reports if getattr(report, "when", None) == "call"), None)
    if failed:
        text = "\n\n".join(_failure_text(report) for report in failed)
        return {"outcome": "failure" if call in failed else "error", "text": text}
    skipped = next((report for report in reports if report.skipped), None)
    if skipped is not None and hasattr(skipped, "wasxfail"):
        return {"outcome": "expected failure", "text": f"xfail: {skipped.wasxfail}"}
    if skipped is not None:
        reason = skipped.longrepr[2] if isinstance(skipped.longrepr, tuple) else str(skipped.longrepr)
        return {"outcome": "skip", "text": reason.removeprefix("Skipped: ")}
    if call is not None and hasattr(call, "wasxfail"):
        return {"outcome": "unexpected success"}
    return {"outcome": "success"}


def _failure_text(report) -> str:
    """pytest's report of a failed phase, with the output the test printed or logged in it."""
    sections = [f"----- {title} -----\n{content}" for title, content in report.sections if content]
    return "\n".join([report.longreprtext, *sections])
