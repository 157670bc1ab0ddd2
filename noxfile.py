"""Developer and CI sessions: ``nox -s lint typecheck tests`` is the landing check."""

from __future__ import annotations

import nox

nox.options.default_venv_backend = "uv|virtualenv"
nox.options.sessions = ["lint", "typecheck", "tests"]
nox.options.error_on_missing_interpreters = True

PYTHON = "3.11"
LINTED = ["tokportal_async", "tests", "examples", "benchmarks", "tools", "noxfile.py"]
#: The development dependencies, as pyproject.toml's [dependency-groups] (PEP 735) list them.
PYPROJECT = nox.project.load_toml("pyproject.toml")


def group(name: str) -> list[str]:
    """The requirements of one dependency group, its included groups resolved."""
    return list(nox.project.dependency_groups(PYPROJECT, name))


@nox.session(python=PYTHON)
def lint(session: nox.Session) -> None:
    """Ruff's rules and its formatter, checked, not applied; and the facade is not stale."""
    session.install(*group("lint"), "-e", ".")
    session.run("ruff", "check", *LINTED)
    session.run("ruff", "format", "--check", *LINTED)
    session.run("python", "tools/codegen.py", "--check")


@nox.session(python=PYTHON)
def typecheck(session: nox.Session) -> None:
    """mypy --strict on the package, the examples users copy from, tests and benchmarks."""
    session.install(*group("typecheck"), "-e", ".[speed,redis,cli]")
    session.run("mypy", "--strict", "tokportal_async", "examples", "tests", "benchmarks", "tools")


@nox.session(python=PYTHON)
def bench(session: nox.Session) -> None:
    """Speed, measured side by side with the alternatives; never asserted in tests.

    About eight minutes on two cores; ``nox -s bench -- quick`` leaves out the 40-second
    serial runs. Results and their reading: benchmarks/README.md.
    """
    session.install(*group("bench"), "-e", ".[speed,redis,cli]")
    quick = "quick" in session.posargs
    session.run("python", "-m", "benchmarks.requests")
    session.run("python", "-m", "benchmarks.requests", "--tls")
    session.run("python", "-m", "benchmarks.facade")
    session.run("python", "-m", "benchmarks.decode")
    session.run("python", "-m", "benchmarks.bulk", *(["--skip-serial"] if quick else []))
    session.run("python", "-m", "benchmarks.reliability")
    session.run("python", "-m", "benchmarks.stalls", *(["--rounds", "1"] if quick else []))
    session.run("python", "-m", "benchmarks.multiprocess")  # needs redis-server
    session.run("python", "-m", "benchmarks.memory")
    session.run("python", "-m", "benchmarks.imports")


@nox.session(python=PYTHON)
def tests(session: nox.Session) -> None:
    """The test suite, warnings as errors, against the sandbox over loopback."""
    session.install(*group("tests"), "-e", ".")
    session.run("pytest", *session.posargs)
