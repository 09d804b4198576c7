"""The verifier's input besides the ELF: the project's `[harden]` settings as one frozen type.

`fwharden.board_profiles.project` parses firmware.toml and constructs a `HardenPolicy`;
the analysis reads only this type, never TOML. `should_fail` is the one place that turns a
result and a policy into the build's pass/fail decision: the CLI and the SCons tool both
call it, so `fwharden verify --config` and `scons` cannot disagree.

This module imports nothing from fwharden: the board_profiles package (which must stay
light, SCons reads it on every run) imports it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal, Protocol, get_args

Severity = Literal["error", "warning", "note"]
FailOn = Literal["error", "warning", "never"]
SEVERITIES: tuple[Severity, ...] = get_args(Severity)
FAIL_ON: tuple[FailOn, ...] = get_args(FailOn)

# Which finding severities make the build fail, per `fail_on`.
_FAILING: dict[str, tuple[Severity, ...]] = {"error": ("error",),
                                             "warning": ("error", "warning"),
                                             "never": ()}


@dataclass(frozen=True)
class HardenPolicy:
    """The verifier's settings from `[harden]`, as plain values (the analysis reads no TOML).

    indirect: keys are a function name (the function holding the indirect call), a
    handler name (every indirect call reachable from it) or a call-site address ("0x...");
    values are the names of the functions that call may reach.
    """

    fail_on: FailOn = "error"
    thread_context: tuple[str, ...] = ()
    nesting_levels: int | None = None
    priorities: tuple[tuple[str, int], ...] = ()
    indirect: tuple[tuple[str, tuple[str, ...]], ...] = ()
    forbid: tuple[tuple[str, str], ...] = ()
    allow: tuple[tuple[str, str], ...] = ()
    severity: tuple[tuple[str, Severity], ...] = ()
    # function -> the most times a function of its recursive cycle can be on the stack
    recursion: tuple[tuple[str, int], ...] = ()
    # allowed function -> the stack it may use with everything it calls (`stack = N`)
    allow_stack: tuple[tuple[str, int], ...] = ()
    # variable -> how the project protects it where the binary cannot show it
    shared: tuple[tuple[str, str], ...] = ()


class _HasSeverity(Protocol):
    @property
    def severity(self) -> str: ...


class _HasFindings(Protocol):
    @property
    def findings(self) -> Iterable[_HasSeverity]: ...


def failing_severities(policy: HardenPolicy) -> tuple[Severity, ...]:
    """The severities that fail the build under `policy.fail_on`."""
    return _FAILING[policy.fail_on]


def fails_on(severities: Iterable[str | None], policy: HardenPolicy) -> bool:
    """The decision itself: True when one of the findings' `severities` fails the build
    under `policy.fail_on`. With the default fail_on = "error" this is the verdict;
    "warning" also fails on warnings; "never" reports but never fails (the findings still
    say what was not proven). `should_fail` applies it to a VerifyResult, the SCons tool
    to a verify.json it reads back."""
    failing = failing_severities(policy)
    return any(severity in failing for severity in severities)


def should_fail(result: _HasFindings, policy: HardenPolicy) -> bool:
    """True when `result` has a finding whose severity `policy.fail_on` says fails the build."""
    return fails_on((f.severity for f in result.findings), policy)
