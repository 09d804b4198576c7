"""A decoded fault as text (what `fwharden decode-fault` prints) and as JSON data."""

from __future__ import annotations

from typing import Any

from fwharden.harden.faults.decode import DecodedFault, Location


def describe_fault(decoded: DecodedFault) -> str:
    out = [decoded.summary]
    # The canary, and TinyGo's Cortex-M caveats (its SP is the MSP, its PC may be stale).
    out.extend(f"  - {detail}" for detail in decoded.details
               if "canary" in detail or "PSP" in detail)
    if decoded.stack_title:
        out.append(f"stack: {decoded.stack_title}")
    for handler in decoded.handlers:
        out.append(f"handler: {handler.describe()}")
    if decoded.pc:
        out.append(f"pc: {decoded.pc.describe()}")
    if decoded.lr:
        out.append(f"lr: {decoded.lr.describe()}")
    if decoded.backtrace:
        out.append("backtrace (return addresses found on the stack, innermost first):")
        out.extend(f"  {loc.describe()}" for loc in decoded.backtrace)
    return "\n".join(out) + "\n"


def _location(location: Location | None) -> dict[str, Any] | None:
    if location is None:
        return None
    return {"address": location.address, "function": location.function,
            "file": location.file, "line": location.line}


def fault_to_dict(decoded: DecodedFault) -> dict[str, Any]:
    return {"summary": decoded.summary, "type": decoded.kind, "details": list(decoded.details),
            "stack": decoded.stack, "pc": _location(decoded.pc), "lr": _location(decoded.lr),
            "backtrace": [_location(b) for b in decoded.backtrace], "fields": decoded.fields,
            "handlers": [_location(h) for h in decoded.handlers]}
