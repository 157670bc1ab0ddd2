"""Resolving the client's settings: the key, the base URL and the timeout.

Pure functions of their arguments and the environment, so they fail before any socket is
opened, with messages that say what to do.
"""

from __future__ import annotations

import ipaddress
import os

from yarl import URL

from ._constants import API_KEY_ENV, BASE_URL_ENV, DEFAULT_BASE_URL

__all__ = ["resolve_api_key", "resolve_base_url"]


def resolve_api_key(api_key: str | None) -> str:
    """The key given, else ``TOKPORTAL_API_KEY``; any non-empty string is accepted.

    Key formats have changed before (``tok_live_…``, then ``sk_…``), so the format is the
    server's business, never ours.
    """
    if api_key is None:
        api_key = os.environ.get(API_KEY_ENV)
    if api_key is None:
        raise ValueError(
            f"No TokPortal API key: pass api_key=... or set the {API_KEY_ENV} environment variable."
        )
    if not isinstance(api_key, str) or not api_key.strip():
        raise ValueError(f"The TokPortal API key is empty: check api_key or {API_KEY_ENV}.")
    api_key = api_key.strip()
    if any(ord(char) < 0x20 or ord(char) == 0x7F for char in api_key):
        # Never echo it: the message would put the key in a log. A header cannot carry it.
        raise ValueError(
            "The TokPortal API key contains a control character (such as CR, LF, NUL or "
            f"DEL) and cannot be sent in a header: check how api_key or {API_KEY_ENV} was "
            "copied."
        )
    return api_key


def _is_loopback(host: str) -> bool:
    # "localhost" itself, not any *.localhost name: those resolve through DNS settings we
    # cannot see, and a resolver may send them off the machine.
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def resolve_base_url(base_url: str | None) -> URL:
    """The base URL given, else ``TOKPORTAL_BASE_URL``, else TokPortal's own.

    Plain ``http://`` is refused unless the host is an IP loopback address or
    ``localhost``: the key travels in a header on every request, and over plain HTTP anyone
    on the path could read it. Credentials in the URL are refused.
    """
    raw = base_url if base_url is not None else os.environ.get(BASE_URL_ENV) or DEFAULT_BASE_URL
    if not isinstance(raw, str):
        raise ValueError(f"base_url must be a string, got {type(raw).__name__}")
    try:
        url = URL(raw.strip())
    except ValueError:
        raise ValueError("base_url is not a valid URL") from None
    if url.user is not None or url.password is not None:
        # Not echoed: it holds a password, which would also show in repr(client) and be
        # sent as Basic auth next to the API key.
        raise ValueError(
            "base_url must not carry a user name or password (user:pass@host): TokPortal "
            "authenticates with the API key alone"
        )
    if url.scheme not in ("http", "https") or not url.host:
        raise ValueError(f"base_url must be an absolute http(s) URL, got {raw!r}")
    if url.scheme == "http" and not _is_loopback(url.host):
        raise ValueError(
            f"base_url {raw!r} uses plain http: the API key would cross the network "
            "unencrypted. Use https (http is allowed only for loopback hosts)."
        )
    if url.query_string or url.fragment:
        raise ValueError(f"base_url must not carry a query or fragment, got {raw!r}")
    # One canonical form without a trailing slash, so joining paths is plain concatenation.
    return url.with_path(url.path.rstrip("/"))
