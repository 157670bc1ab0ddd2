"""Developer and CI sessions: ``nox -s lint typecheck tests`` is the landing check."""

from __future__ import annotations

import nox

nox.options.default_venv_backend = "uv|virtualenv"
nox.options.sessions = ["lint", "typecheck", "tests"]
nox.options.error_on_missing_interpreters = True

PYTHON = "3.11"
RUFF = "ruff==0.17.6"
MYPY = "mypy==2.4.1"
LINTED = ["tokportal_async", "tests", "examples", "benchmarks", "noxfile.py"]


@nox.session(python=PYTHON)
def lint(session: nox.Session) -> None:
    """Ruff's rules and its formatter, checked, not applied; and the facade is not stale."""
    session.install(RUFF, "-e", ".")
    session.run("ruff", "check", *LINTED)
    session.run("ruff", "format", "--check", *LINTED)
    session.run("python", "-m", "tokportal_async._codegen", "--check")


@nox.session(python=PYTHON)
def typecheck(session: nox.Session) -> None:
    """mypy --strict on the package, the examples users copy from, and the tests."""
    session.install(MYPY, "-e", ".[tests]")
    session.run("mypy", "--strict", "tokportal_async", "examples", "tests")


@nox.session(python=PYTHON)
def bench(session: nox.Session) -> None:
    """Speed, measured side by side with the alternatives; never asserted in tests."""
    session.install("-e", ".")
    session.run("python", "-m", "benchmarks.decode")
    session.run("python", "-m", "benchmarks.facade")


@nox.session(python=PYTHON)
def tests(session: nox.Session) -> None:
    """The test suite, warnings as errors, against the sandbox over loopback."""
    session.install("-e", ".[tests]")
    session.run("pytest", *session.posargs)
