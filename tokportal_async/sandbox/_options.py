"""Every option of the sandbox, defined once: its name, type, unit, default, check and help.

``Sandbox(...)``, ``serve_in_thread(...)``, ``SandboxState(...)``, the pytest marker and
the command line (``python -m tokportal_async.sandbox`` and ``tokportal-async sandbox``)
all take these options, under the same names (``--fault-rate`` on the command line for
``fault_rate``) and in the same units: durations are in seconds everywhere.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Sequence
from typing import Any, Literal

import attrs

from ._faults import DEFAULT_STALL_SECONDS, Fault

__all__ = ["DEFAULT_CREDITS", "DEFAULT_POLICY_VERSION", "PROFILES", "Profile", "SandboxOptions"]

Profile = Literal["live", "seed"]
#: ``live``: the API as TokPortal serves it now. ``seed``: its original Accounts page.
PROFILES: tuple[Profile, ...] = ("live", "seed")
#: The version of TokPortal's terms the sandbox asks to accept, until told otherwise.
DEFAULT_POLICY_VERSION = "2026-11-01"
#: The sandbox user's credit balance: enough for dozens of acknowledgments.
DEFAULT_CREDITS = 10_000


def _help(text: str, *, metavar: str | None = None) -> dict[str, Any]:
    return {"help": text, "metavar": metavar}


def _in_range(low: float, high: float = math.inf, *, above: bool = False) -> Any:
    """A validator: a number from ``low`` (excluded when ``above``) to ``high``, or None."""

    def check(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
        if value is None:
            return
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(f"{attribute.name} must be a number, got {value!r}")
        if value < low or (above and value == low):
            relation = "above" if above else "at least"
            raise ValueError(f"{attribute.name} must be {relation} {low:g}, got {value!r}")
        if value > high:
            raise ValueError(f"{attribute.name} must be at most {high:g}, got {value!r}")

    return check


def _version(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    """A policy version the SDK can accept: a non-blank, printable string."""
    if not isinstance(value, str) or not value.strip() or not value.isprintable():
        raise ValueError(
            f"{attribute.name} must be a non-blank printable string (the SDK refuses to "
            f"accept a blank one), got {value!r}"
        )


def _profile(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value not in PROFILES:
        raise ValueError(f"profile must be one of {', '.join(PROFILES)}, got {value!r}")


def _fault_kinds(value: Sequence[Fault | str] | None) -> tuple[Fault, ...] | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = value.split(",")
    try:
        return tuple(Fault(kind) for kind in value)
    except ValueError:
        known = ", ".join(kind.value for kind in Fault)
        raise ValueError(f"fault_kinds must be some of {known}, got {value!r}") from None


@attrs.frozen(kw_only=True)
class CommandLineOption:
    """How one :class:`SandboxOptions` field is offered on a command line."""

    name: str
    flag: str
    kind: type
    choices: tuple[str, ...] | None
    metavar: str | None
    help: str
    #: What the command line passes when the option is not given (None: the field's own).
    default: Any
    #: The default its help names.
    shown_default: Any


@attrs.frozen(kw_only=True)
class SandboxOptions:
    """How a sandbox behaves: its data, its profile, and the faults and limits it plays.

    Durations are in seconds. Every option is checked when the options are made, so a bad
    one fails with a ``ValueError`` before anything starts.
    """

    accounts: int = attrs.field(
        default=250, validator=_in_range(0), metadata=_help("accounts to generate", metavar="N")
    )
    seed: int = attrs.field(default=0, metadata=_help("the same seed gives the same data"))
    api_key: str | None = attrs.field(
        default=None, metadata=_help("the sandbox user's key (default: derived from the seed)")
    )
    profile: Profile = attrs.field(
        default="live",
        validator=_profile,
        metadata=_help(
            "live: TokPortal's API as it is now; seed: its original Accounts page "
            "(credentials in details, no policy, no bans)"
        ),
    )
    require_policy_acceptance: bool | None = attrs.field(
        default=None,
        metadata=_help(
            "guard credentials and codes with the 428 policy flow (default: per profile)"
        ),
    )
    omit_credentials: bool | None = attrs.field(
        default=None,
        metadata=_help("leave credentials out of account details (default: per profile)"),
    )
    policy_version: str = attrs.field(
        default=DEFAULT_POLICY_VERSION,
        validator=_version,
        metadata=_help("the version of the terms an acceptance must name", metavar="VERSION"),
    )
    credits: int = attrs.field(
        default=DEFAULT_CREDITS,
        validator=_in_range(0),
        metadata=_help("the user's credit balance", metavar="N"),
    )
    latency: float = attrs.field(
        default=0.0,
        validator=_in_range(0),
        metadata=_help("seconds added before every answer", metavar="SECONDS"),
    )
    fault_rate: float = attrs.field(
        default=0.0,
        validator=_in_range(0, 1),
        metadata=_help(
            "share of requests (0-1) answered with a fault: 5xx, HTML 502, drop, stall, "
            "truncated body",
            metavar="RATE",
        ),
    )
    fault_kinds: tuple[Fault, ...] | None = attrs.field(
        default=None,
        converter=_fault_kinds,
        metadata=_help(
            "which faults, comma-separated: " + ",".join(kind.value for kind in Fault),
            metavar="KINDS",
        ),
    )
    fault_seed: int | None = attrs.field(
        default=None, metadata=_help("the seed of the fault draw (default: --seed)")
    )
    stall_seconds: float = attrs.field(
        default=DEFAULT_STALL_SECONDS,
        validator=_in_range(0, above=True),
        metadata=_help("how long a stalled request hangs at most", metavar="SECONDS"),
    )
    rate_limit: int | None = attrs.field(
        default=None,
        validator=_in_range(1),
        metadata=_help("enforce a token bucket of N requests per --rate-window", metavar="N"),
    )
    rate_window: float = attrs.field(
        default=60.0,
        validator=_in_range(0, above=True),
        metadata=_help("seconds over which --rate-limit refills", metavar="SECONDS"),
    )
    webhook_retry_delay: float = attrs.field(
        default=1.0,
        validator=_in_range(0, above=True),
        metadata=_help(
            "seconds before a failed webhook delivery is tried again (doubling each time)",
            metavar="SECONDS",
        ),
    )
    webhook_max_attempts: int = attrs.field(
        default=5,
        validator=_in_range(1),
        metadata=_help("attempts to deliver one webhook event to one endpoint", metavar="N"),
    )
    webhook_timeout: float = attrs.field(
        default=10.0,
        validator=_in_range(0, above=True),
        metadata=_help("seconds a webhook receiver has to answer", metavar="SECONDS"),
    )
    host: str = attrs.field(default="127.0.0.1", metadata=_help("the address to listen on"))
    port: int = attrs.field(
        default=0, validator=_in_range(0, 65_535), metadata=_help("the port (0: a free one)")
    )

    @classmethod
    def of(cls, options: SandboxOptions | None = None, **fields: Any) -> SandboxOptions:
        """``options`` with ``fields`` changed; the defaults with ``fields`` without it."""
        if options is None:
            return cls(**fields)
        if not isinstance(options, SandboxOptions):
            raise TypeError(f"options must be SandboxOptions, got {options!r}")
        return attrs.evolve(options, **fields) if fields else options

    @classmethod
    def command_line(cls, defaults: dict[str, Any] | None = None) -> list[CommandLineOption]:
        """One ``--option`` per field, as every command line of the sandbox offers it.

        ``defaults`` are what a command line uses instead of a field's own default (and
        says so in its help); an option not given is ``None``, so that the field's own
        default applies.
        """
        defaults = defaults or {}
        options = []
        for field in attrs.fields(cls):
            kind = str(field.type)
            given = defaults.get(field.name)
            options.append(
                CommandLineOption(
                    name=field.name,
                    flag="--" + field.name.replace("_", "-"),
                    kind=(
                        bool if kind.startswith("bool")
                        else int if kind.startswith("int")
                        else float if kind == "float"
                        else str
                    ),
                    choices=PROFILES if field.name == "profile" else None,
                    metavar=field.metadata["metavar"],
                    help=field.metadata["help"],
                    default=given,
                    shown_default=field.default if given is None else given,
                )
            )  # fmt: skip
        return options

    @classmethod
    def add_arguments(
        cls, parser: argparse.ArgumentParser, defaults: dict[str, Any] | None = None
    ) -> None:
        """Add one ``--option`` per field to ``parser`` (see :meth:`command_line`)."""
        for option in cls.command_line(defaults):
            shown = option.shown_default
            help_text = option.help if shown is None else f"{option.help} (default: {shown})"
            if option.kind is bool:
                action = argparse.BooleanOptionalAction
                parser.add_argument(option.flag, action=action, default=option.default,
                                    help=option.help)  # fmt: skip
                continue
            parser.add_argument(
                option.flag,
                type=option.kind,
                default=option.default,
                choices=option.choices,
                metavar=option.metavar,
                help=help_text,
            )

    @classmethod
    def from_arguments(cls, arguments: argparse.Namespace) -> SandboxOptions:
        """The options a parsed command line gave; those not given keep their defaults."""
        given = {field.name: getattr(arguments, field.name, None) for field in attrs.fields(cls)}
        return cls(**{name: value for name, value in given.items() if value is not None})


def _attributes_section() -> str:
    """The fields' help, as the class docstring's Attributes: written once, in metadata."""
    lines = ["", "    Attributes:"]
    for field in attrs.fields(SandboxOptions):
        default = "" if field.default is None else f" Default: ``{field.default!r}``."
        lines.append(f"        {field.name}: {field.metadata['help']}.{default}")
    return "\n".join(lines) + "\n"


SandboxOptions.__doc__ = (SandboxOptions.__doc__ or "") + _attributes_section()
