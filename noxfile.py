"""Developer and CI sessions: ``nox -s lint typecheck tests docs`` is the landing check.

The tests run on every supported Python that is installed; lint, typecheck and docs on
the Python that runs nox. CI (``CI`` set) must have all three: a missing one fails there,
and is skipped with a note on a developer's machine.
"""

from __future__ import annotations

import os

import nox

nox.options.default_venv_backend = "uv|virtualenv"
nox.options.sessions = ["lint", "typecheck", "tests", "docs"]
nox.options.error_on_missing_interpreters = bool(os.environ.get("CI"))

#: Every Python the package supports (pyproject.toml's classifiers say the same).
PYTHONS = ["3.11", "3.12", "3.13"]
LINTED = ["tokportal_async", "tests", "examples", "benchmarks", "tools", "noxfile.py"]
#: The development dependencies, as pyproject.toml's [dependency-groups] (PEP 735) list them.
PYPROJECT = nox.project.load_toml("pyproject.toml")


def group(name: str) -> list[str]:
    """The requirements of one dependency group, its included groups resolved."""
    return list(nox.project.dependency_groups(PYPROJECT, name))


@nox.session(python=None)
def lint(session: nox.Session) -> None:
    """Ruff's rules and its formatter, checked, not applied; and the facade is not stale."""
    session.install(*group("lint"), "-e", ".")
    session.run("ruff", "check", *LINTED)
    session.run("ruff", "format", "--check", *LINTED)
    session.run("python", "tools/codegen.py", "--check")


@nox.session(python=None)
def typecheck(session: nox.Session) -> None:
    """mypy --strict on the package, the examples users copy from, tests and benchmarks."""
    session.install(*group("typecheck"), "-e", ".[speed,redis,cli]")
    session.run("mypy", "--strict", "tokportal_async", "examples", "tests", "benchmarks", "tools")


@nox.session(python=None)
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
    session.run("python", "-m", "benchmarks.first_call")
    session.run("python", "-m", "benchmarks.profile_request")
    session.run("python", "-m", "benchmarks.decode")
    session.run("python", "-m", "benchmarks.bulk", *(["--skip-serial"] if quick else []))
    session.run("python", "-m", "benchmarks.reliability")
    session.run("python", "-m", "benchmarks.stalls", *(["--rounds", "1"] if quick else []))
    session.run("python", "-m", "benchmarks.multiprocess")  # needs redis-server
    session.run("python", "-m", "benchmarks.memory")
    session.run("python", "-m", "benchmarks.imports")


@nox.session(python=PYTHONS)
def tests(session: nox.Session) -> None:
    """The test suite, warnings as errors, against the sandbox over loopback.

    On as many workers as the machine has cores (``-n auto``); ``nox -s tests -- ARGS``
    passes ARGS to pytest instead (``-n 0`` for one process).
    """
    session.install(*group("tests"), "-e", ".")
    session.run("pytest", *(session.posargs or ["-n", "auto"]))


@nox.session(python=None)
def docs(session: nox.Session) -> None:
    """The documentation site, built strict: a broken link or reference fails it."""
    session.install(*group("docs"), "-e", ".")
    site = os.path.join(session.create_tmp(), "site")
    # NO_MKDOCS_2_WARNING: Material's banner about its successor, not about these docs.
    env = {"NO_MKDOCS_2_WARNING": "1"}
    session.run("mkdocs", "build", "--strict", "--site-dir", site, env=env)
