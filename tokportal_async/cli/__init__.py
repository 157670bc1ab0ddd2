"""The ``tokportal-async`` command line (the ``cli`` extra: ``pip install ".[cli]"``).

The command is installed with the package, but its parser (click) comes with the ``cli``
extra, so that the SDK itself keeps its five runtime dependencies. Without the extra, the
command says how to get it.
"""

from __future__ import annotations

import importlib
import sys

__all__ = ["console", "main"]

#: Exit code when the CLI's own dependencies are missing (the same as a usage error).
MISSING_EXTRA = 2


#: What the command line imports: the SDK's five dependencies, theirs that it imports
#: by name, and the extra's click. Any of them missing gets the same hint: installing the
#: extra installs them all.
NEEDED = frozenset({"aiohttp", "attrs", "cattrs", "anyio", "backoff", "multidict", "yarl"})


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    try:
        # Each dependency now, not at its first use (the SDK loads cattrs only for the
        # first answer its fast path cannot take): a missing one gets the hint up front.
        for name in sorted(NEEDED):
            importlib.import_module(name)
        from . import _care, _webhooks  # noqa: F401 - they register their commands
        from ._app import run
    except ImportError as exc:
        missing = (exc.name or "").partition(".")[0]
        if missing != "click" and missing not in NEEDED:
            raise
        from .._install import install_hint

        hint = install_hint("cli")
        print(
            f"tokportal-async: {missing} is not installed; the command line needs the "
            f"package and its cli extra: {hint}",
            file=sys.stderr,
        )
        return MISSING_EXTRA
    return run(argv)


def console() -> None:
    """The ``tokportal-async`` console script."""
    sys.exit(main())
