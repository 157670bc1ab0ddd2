"""The ``tokportal-async`` command line (the ``cli`` extra: ``pip install ".[cli]"``).

The command is installed with the package, but its parser (click) comes with the ``cli``
extra, so that the SDK itself keeps its five runtime dependencies. Without the extra, the
command says how to get it.
"""

from __future__ import annotations

import sys

__all__ = ["console", "main"]

#: Exit code when the CLI's own dependencies are missing (the same as a usage error).
MISSING_EXTRA = 2


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    try:
        from ._app import run
    except ImportError as exc:
        if exc.name != "click":
            raise
        from .._install import install_hint

        hint = install_hint("cli")
        print(f"tokportal-async: the command line needs its extra: {hint}", file=sys.stderr)
        return MISSING_EXTRA
    return run(argv)


def console() -> None:
    """The ``tokportal-async`` console script."""
    sys.exit(main())
