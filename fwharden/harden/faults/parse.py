"""Parse what the runtime leaves after a fault: its `FWH-FAULT` console line, or the raw
`.noinit` fault record a debugger dumps. Parsers only: they return a `FaultLine` and never
read the ELF, print, or decode bits (that is `decode.py`).

Field names follow the C side (fwharden/runtime/cortex_m/guard.c, runtime/riscv/guard.c),
bit names its scs.h (`scs.py`), so a value reads the same in the log, the record and here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from fwharden.harden.elf.image import Family
from fwharden.harden.errors import HardenError
from fwharden.harden.faults.scs import SCB_CFSR_MSTKERR_Msk, SCB_CFSR_STKERR_Msk
from fwharden.inputs import printable

# (?<!\w): a match starts only at the start of a word. Without it each position inside a
# long word was tried again, and a 32k-character word on the line took minutes (the fuzz
# tier found it).
_FIELD = re.compile(r"(?<!\w)(\w+)=(\S+)")
_WORDS = re.compile(r"(?<!\w)(\w+)@(0x[0-9a-fA-F]+)=([0-9a-fA-Fx,]+)")

# The runtime's .noinit fault record (runtime/cortex_m/guard.c, runtime/riscv/guard.c):
# a magic word (FWH_FAULT_MAGIC in runtime/common/fault.h), then these 32-bit fields.
RECORD_MAGIC = 0x46574846
ARM_RECORD = ("ipsr", "cfsr", "hfsr", "mmfar", "bfar", "exc_return", "msp", "psp", "r0", "r1",
              "r2", "r3", "r12", "lr", "pc", "xpsr", "stack", "count")
RISCV_RECORD = ("mcause", "mepc", "mtval", "sp", "ra", "stack", "count")
ARM_FAULT_NAMES = {3: "HardFault", 4: "MemManage", 5: "BusFault", 6: "UsageFault"}
# RISC-V mcause exception codes (privileged spec 3.1.15, Table 3.6).
RISCV_CAUSES = {0: "instruction address misaligned", 1: "instruction access fault",
                2: "illegal instruction", 3: "breakpoint", 4: "load address misaligned",
                5: "load access fault", 6: "store/AMO address misaligned",
                7: "store/AMO access fault (PMP)", 8: "ecall from U-mode", 11: "ecall from M-mode"}


@dataclass(frozen=True)
class FaultLine:
    """One fault as the runtime reported it: fields by the C side's names, and the stack
    words it printed (words_at: the address of the first)."""

    arch: str
    kind: str
    fields: dict[str, int] = field(default_factory=dict)
    words_at: int | None = None
    words: tuple[int, ...] = ()


def find_fault_line(text: str) -> FaultLine:
    """The last FWH-FAULT line in a log (the runtime prints one per fault)."""
    lines = [line for line in text.splitlines() if "FWH-FAULT" in line]
    if not lines:
        raise HardenError("no FWH-FAULT line in the log; fix: pass the console output of the "
                          "run that faulted")
    return parse_fault_line(lines[-1])


def parse_fault_line(line: str) -> FaultLine:
    """One `FWH-FAULT arch=... type=... key=0x... words@0x...=w,w,...` line."""
    if "FWH-FAULT" not in line:
        raise HardenError("not a FWH-FAULT line; fix: pass the line the runtime printed")
    line = line[line.index("FWH-FAULT"):]
    fields: dict[str, int] = {}
    match = _WORDS.search(line)
    raw = dict(_FIELD.findall(_WORDS.sub("", line)))
    for key, value in raw.items():
        if key in ("arch", "type"):
            continue
        try:
            fields[key] = int(value, 0)
        except ValueError:
            raise HardenError(f"FWH-FAULT field {key}={printable(value)!r} is not a number; "
                              "fix: pass the whole line as the console printed it") from None
    if "arch" not in raw or "type" not in raw:
        raise HardenError("the FWH-FAULT line has no arch= or type=; fix: pass the whole line")
    words_at, words = None, ()
    if match:
        words_at = int(match.group(2), 16)
        try:
            words = tuple(int(w, 16) for w in match.group(3).split(",") if w)
        except ValueError:  # a line cut off mid-word (",0x" at the end of a capture)
            raise HardenError(f"FWH-FAULT stack words {printable(match.group(3))!r} are cut "
                              "off or not hex; fix: pass the whole line as the console "
                              "printed it") from None
    return FaultLine(raw["arch"], raw["type"], fields, words_at, words)


def fault_from_record(data: bytes, family: Family) -> FaultLine:
    """A raw fwh_last_fault record (e.g. `dump binary memory` from a debugger)."""
    names = ARM_RECORD if family == "arm" else RISCV_RECORD
    size = 4 * (1 + len(names))
    if len(data) < size or int.from_bytes(data[:4], "little") != RECORD_MAGIC:
        raise HardenError(f"not a fwharden fault record: need {size} bytes starting with "
                          f"0x{RECORD_MAGIC:08x} (the fwh_last_fault object in .noinit)")
    values = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "little") for i in range(len(names))]
    fields = dict(zip(names, values, strict=True))
    if family == "arm":
        kind = ARM_FAULT_NAMES.get(fields["ipsr"], "Exception")
        # The record keeps the frame only when it was valid (stacking errors zero it).
        # ARMv6-M has no CFSR: there a zeroed PC says the frame was not kept.
        stacking_error = fields["cfsr"] & (SCB_CFSR_MSTKERR_Msk | SCB_CFSR_STKERR_Msk)
        fields["frame"] = 0 if stacking_error or not fields["pc"] else 1
    else:
        kind = RISCV_CAUSES.get(fields["mcause"], "exception").replace(" ", "-")
    return FaultLine(family, kind, fields)
