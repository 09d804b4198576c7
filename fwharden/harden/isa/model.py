"""What the disassembly of one function yields: its calls, its frame, what it could not read.

The per-architecture decoders (`thumb.py`, `rv32.py`) fill these types; the call
graph and the stack bounds read only these, never capstone output.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from fwharden.harden.elf.image import Function

# How control leaves a function: see CallSite.
CallKind = Literal["call", "tail", "indirect", "indirect-tail"]


@dataclass(frozen=True)
class CallSite:
    """One way control leaves a function for another one.

    kind: "call" (returns here), "tail" (a branch that leaves the function), "indirect"
    (call through a register) or "indirect-tail" (branch through a register).
    For indirect kinds `targets` holds what the decoder could resolve on its own (a
    constant, or the entries of a read-only dispatch table); empty means unresolved.
    """

    site: int
    kind: CallKind
    targets: tuple[int, ...]
    live_frame: int            # bytes of the caller's frame still allocated at the site
    how: str = ""              # how an indirect target was resolved ("constant", "table ...")
    other_stack: bool = False  # made after the caller moved SP to another stack (fault stack)

    @property
    def indirect(self) -> bool:
        return self.kind.startswith("indirect")

    @property
    def resolved(self) -> bool:
        return bool(self.targets)


@dataclass(frozen=True)
class Decoded:
    """The facts about one function that the analysis needs."""

    function: Function
    calls: tuple[CallSite, ...]
    frame: int                 # most stack the function itself holds at any point
    frame_dynamic: bool        # SP moved by a run-time amount (alloca, VLA): frame is a minimum
    frame_note: str            # why the frame is dynamic, for the report
    unknown: tuple[tuple[int, str], ...]  # (address, what) the decoder could not classify
    instructions: int
    # Where the function moves SP onto another stack: (site, the new SP value when it is a
    # constant the code gives, else None). Calls after the first switch are `other_stack`.
    switches: tuple[tuple[int, int | None], ...] = ()
    # RISC-V: swaps sp with mscratch (`csrrw sp, mscratch, sp`, the trap-entry idiom of the
    # privileged spec 3.1.16): what follows runs on the stack mscratch held.
    mscratch_swap: bool = False
