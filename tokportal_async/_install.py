"""How to install an extra, said for where this copy of the package came from.

The package is not on PyPI, so ``pip install "tokportal-async[cli]"`` would fail or, worse,
fetch somebody else's package. pip records where it installed a package from (PEP 610's
``direct_url.json``): a clone, an archive or a Git URL. The hint names that source.
"""

from __future__ import annotations

import json
from importlib import metadata
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

__all__ = ["hint_for", "install_hint"]

DISTRIBUTION = "tokportal-async"


#: The checkout this module runs from, if it runs from one (``python -m tokportal_async``
#: in a clone that was never installed).
_CHECKOUT = Path(__file__).resolve().parent.parent


def _origin() -> dict[str, Any] | None:
    try:
        text = metadata.distribution(DISTRIBUTION).read_text("direct_url.json")
        origin = json.loads(text) if text else None
    except metadata.PackageNotFoundError:
        if (_CHECKOUT / "pyproject.toml").is_file():  # a clone, never installed
            return {"url": _CHECKOUT.as_uri(), "dir_info": {"editable": True}}
        return None
    except ValueError:
        return None
    return origin if isinstance(origin, dict) and isinstance(origin.get("url"), str) else None


def install_hint(extra: str) -> str:
    """The pip command that adds ``extra`` to this installation."""
    return hint_for(extra, _origin())


def hint_for(extra: str, origin: dict[str, Any] | None) -> str:
    """The pip command that adds ``extra`` to a package installed from ``origin``.

    ``origin`` is the PEP 610 record pip kept (``None``: installed from an index).
    """
    if origin is None:  # from an index or a wheel: the name is all pip needs
        return f'pip install "{DISTRIBUTION}[{extra}]"'
    url: str = origin["url"]
    vcs = origin.get("vcs_info")
    if isinstance(vcs, dict):
        revision = vcs.get("commit_id")
        at = f"@{revision}" if isinstance(revision, str) else ""
        return f'pip install "{DISTRIBUTION}[{extra}] @ {vcs.get("vcs", "git")}+{url}{at}"'
    parts = urlsplit(url)
    if parts.scheme == "file" and "dir_info" in origin:
        editable = "-e " if origin["dir_info"].get("editable") else ""
        return f'pip install {editable}"{unquote(parts.path)}[{extra}]"'
    return f'pip install "{DISTRIBUTION}[{extra}] @ {url}"'
