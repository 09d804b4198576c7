"""Decode the runtime's `FWH-FAULT` line back to words, symbols and source lines.

ARMv7-M fault status bits: ARM DDI 0403E B3.2.15 (CFSR = MMFSR | BFSR << 8 | UFSR << 16)
and B3.2.16 (HFSR). RISC-V exception codes: privileged spec 3.1.15, Table 3.6. The stack
the fault belongs to comes from the runtime's own attribution, checked against the stack
map in the ELF. A backtrace is recovered from the stack words the line carries: every
word that is a return address into code (Thumb bit set on ARM) is listed, innermost first.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from fwharden.harden.elf.image import Image, load_image
from fwharden.harden.elf.lines import LineTable
from fwharden.harden.errors import HardenError
from fwharden.harden.faults.stackmap import SECTION, parse_stackmap
from fwharden.inputs import printable

# (?<!\w): a match starts only at the start of a word. Without it each position inside a
# long word was tried again, and a 32k-character word on the line took minutes (the fuzz
# tier found it).
_FIELD = re.compile(r"(?<!\w)(\w+)=(\S+)")
_WORDS = re.compile(r"(?<!\w)(\w+)@(0x[0-9a-fA-F]+)=([0-9a-fA-Fx,]+)")

MMFSR = {0: "instruction access violation", 1: "data access violation",
         3: "unstacking error on exception return", 4: "stacking error while entering an exception",
         5: "lazy FP state preservation error"}
BFSR = {8: "instruction bus error", 9: "precise data bus error", 10: "imprecise data bus error",
        11: "unstacking error on exception return", 12: "stacking error while entering an exception",
        13: "lazy FP state preservation error"}
UFSR = {16: "undefined instruction", 17: "invalid state (Thumb bit clear)",
        18: "invalid exception return (bad EXC_RETURN)", 19: "no coprocessor (FPU off)",
        20: "stack limit violation (MSPLIM/PSPLIM, ARMv8-M)",
        24: "unaligned access", 25: "divide by zero"}
HFSR = {1: "vector table read fault", 30: "escalated from a configurable fault",
        31: "debug event"}
RISCV_CAUSES = {0: "instruction address misaligned", 1: "instruction access fault",
                2: "illegal instruction", 3: "breakpoint", 4: "load address misaligned",
                5: "load access fault", 6: "store/AMO address misaligned",
                7: "store/AMO access fault (PMP)", 8: "ecall from U-mode", 11: "ecall from M-mode"}
STACK_TITLES = {"isr": "interrupt stack", "thread": "thread stack"}
# TinyGo writes this word at the lowest address of every goroutine stack (src/internal/
# task/task_stack.go, stackCanary) and panics when it changes: a fault next to it is a
# goroutine stack overflow.
TINYGO_STACK_CANARY = 0xB83BF575


@dataclass(frozen=True)
class FaultLine:
    arch: str
    kind: str
    fields: dict[str, int]
    words_at: int | None = None
    words: tuple[int, ...] = ()


@dataclass(frozen=True)
class Location:
    address: int
    function: str | None
    file: str | None
    line: int | None

    def describe(self) -> str:
        where = f"{self.function}" if self.function else "?"
        if self.file:
            where += f" ({self.file}:{self.line})"
        return f"0x{self.address:08x} {where}"


@dataclass
class DecodedFault:
    summary: str
    kind: str
    details: list[str]
    stack: str | None
    stack_title: str | None
    pc: Location | None
    lr: Location | None
    backtrace: list[Location] = field(default_factory=list)
    fields: dict[str, int] = field(default_factory=dict)
    handlers: list[Location] = field(default_factory=list)  # interrupt handler(s) running


def find_fault_line(text: str) -> FaultLine:
    """The last FWH-FAULT line in a log (the runtime prints one per fault)."""
    lines = [line for line in text.splitlines() if "FWH-FAULT" in line]
    if not lines:
        raise HardenError("no FWH-FAULT line in the log; fix: pass the console output of the "
                          "run that faulted")
    line = lines[-1][lines[-1].index("FWH-FAULT"):]
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


def _bits(value: int, table: dict[int, str]) -> list[str]:
    return [text for bit, text in sorted(table.items()) if value & (1 << bit)]


def _locate(image: Image, lines: LineTable, address: int, return_address: bool = False
            ) -> Location:
    if image.family == "arm" and address >= 0xFFFFFFE0:
        # An EXC_RETURN value (ARM DDI 0403E B1.5.8): LR held no return address, so the
        # code at PC was entered from the exception itself, or by a tail call.
        return Location(address, "EXC_RETURN", None, None)
    code = address & ~1 if image.family == "arm" else address
    # A return address points after the call: look the call itself up.
    probe = code - 2 if return_address else code
    func = image.function_at(probe)
    where = lines.lookup(probe)
    return Location(code, func.name if func else None, where[0] if where else None,
                    where[1] if where else None)


def _stack_descriptor(image: Image, stack_id: int | None) -> tuple | None:
    section = next((s for s in image.sections if s.name == SECTION), None)
    if section is None or stack_id is None:
        return None
    try:
        _, _, descriptors = parse_stackmap(section.data)
    except HardenError:
        return None
    return next((d for d in descriptors if d[0] == stack_id), None)


def _stack_name(image: Image, stack_id: int | None) -> str | None:
    descriptor = _stack_descriptor(image, stack_id)
    if descriptor is None:
        return None
    raw = descriptor[1].rstrip(b"\0")
    try:
        return raw.decode("ascii")
    except UnicodeDecodeError:
        raise HardenError(f"{image.path}: stack {stack_id} in {SECTION} is named "
                          f"{printable(raw)!r}, not ASCII; fix: rebuild with the "
                          "SCons tool, which writes the stack map") from None


def _sp_below_stack(image: Image, fields: dict[str, int]) -> str | None:
    """A detail when the faulting SP lies below the lowest address of its stack: how an
    overflow shows on a core without fault status registers (ARMv6-M HardFault)."""
    descriptor = _stack_descriptor(image, fields.get("stack"))
    if "sp" in fields:
        sp = fields["sp"]
    elif "exc_return" in fields:
        sp = fields.get("psp" if fields["exc_return"] & 4 else "msp", 0)
    else:
        return None
    if descriptor is None or sp >= descriptor[2]:
        return None
    return f"SP 0x{sp:08x} is below the stack's lowest address 0x{descriptor[2]:08x}"


# The runtime's .noinit fault record (runtime/cortex_m/guard.c, runtime/riscv/guard.c):
# a magic word, then these 32-bit fields in order.
RECORD_MAGIC = 0x46574846
ARM_RECORD = ("ipsr", "cfsr", "hfsr", "mmfar", "bfar", "exc_return", "msp", "psp", "r0", "r1",
              "r2", "r3", "r12", "lr", "pc", "xpsr", "stack", "count")
RISCV_RECORD = ("mcause", "mepc", "mtval", "sp", "ra", "stack", "count")
ARM_FAULT_NAMES = {3: "HardFault", 4: "MemManage", 5: "BusFault", 6: "UsageFault"}


def fault_from_record(data: bytes, family: str) -> FaultLine:
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
        fields["frame"] = 0 if fields["cfsr"] & ((1 << 4) | (1 << 12)) or not fields["pc"] \
            else 1
    else:
        kind = RISCV_CAUSES.get(fields["mcause"], "exception").replace(" ", "-")
    return FaultLine(family, kind, fields)


def decode_fault(elf: Path, log_text: str, record: bytes | None = None) -> DecodedFault:
    image = load_image(elf)
    fault = fault_from_record(record, image.family) if record is not None else \
        find_fault_line(log_text)
    if fault.arch != image.family:
        raise HardenError(f"{elf}: the fault line is from an {fault.arch} firmware, this ELF is "
                          f"{image.family}; fix: pass the ELF that produced the log")
    lines = LineTable(elf)
    f = fault.fields
    stack = _stack_name(image, f.get("stack"))
    details: list[str] = []
    pc = lr = None
    if fault.arch == "arm":
        cfsr = f.get("cfsr", 0)
        details = _bits(cfsr, MMFSR) + _bits(cfsr, BFSR) + _bits(cfsr, UFSR)
        details += _bits(f.get("hfsr", 0), HFSR)
        below = _sp_below_stack(image, f)
        if below:
            details.append(below)
        if cfsr & (1 << 7):
            details.append(f"at 0x{f.get('mmfar', 0):08x}")
        elif cfsr & (1 << 15):
            details.append(f"at 0x{f.get('bfar', 0):08x}")
        summary = f"{fault.kind}: {', '.join(details) or 'no status bits set'}"
        if f.get("frame"):
            pc = _locate(image, lines, f.get("pc", 0))
            lr = _locate(image, lines, f.get("lr", 0), return_address=True)
    else:
        cause = f.get("mcause", 0)
        text = RISCV_CAUSES.get(cause, f"exception {cause}")
        summary = f"{text} at 0x{f.get('mtval', 0):08x}" if cause in (1, 5, 7) else text
        details = [text]
        pc = _locate(image, lines, f.get("mepc", 0))
        lr = _locate(image, lines, f.get("ra", 0), return_address=True)
    if stack:
        summary += f"; overflow of the {STACK_TITLES.get(stack, stack)}" if any(
            "access" in d or "stacking" in d or "stack limit" in d or "below the stack" in d
            for d in details) else f"; on the {stack} stack"
    for index, word in enumerate(fault.words):
        if word == TINYGO_STACK_CANARY and fault.words_at is not None:
            where = fault.words_at + 4 * index
            details.append(f"TinyGo goroutine stack canary 0x{TINYGO_STACK_CANARY:08x} at "
                           f"0x{where:08x}: the fault is at the bottom of a goroutine stack "
                           "(goroutine stack overflow)")
            summary += "; goroutine stack overflow (TinyGo canary next to the fault)"
            break
    backtrace = []
    for word in fault.words:
        code = word & ~1 if image.family == "arm" else word
        section = image.section_at(code)
        if section is None or not section.executable:
            continue
        if image.family == "arm" and not word & 1:
            continue
        backtrace.append(_locate(image, lines, word, return_address=True))
    return DecodedFault(summary=summary, kind=fault.kind, details=details, stack=stack,
                        stack_title=STACK_TITLES.get(stack or "", stack), pc=pc, lr=lr,
                        backtrace=backtrace, fields=dict(f),
                        handlers=_running_handlers(image, lines, fault, pc))


def _running_handlers(image: Image, lines: LineTable, fault: FaultLine,
                      pc: Location | None) -> list[Location]:
    """Which interrupt handler was running. ARM: the exception number in the stacked xPSR
    names the vector. Otherwise: every handler whose call graph reaches the faulting PC."""
    from fwharden.harden.analysis.callgraph import CallGraph
    from fwharden.harden.analysis.roots import find_roots

    try:
        table = find_roots(image, None)
    except HardenError:
        return []
    if fault.arch == "arm" and fault.fields.get("frame") and fault.fields.get("xpsr", 0) & 0x1FF:
        number = fault.fields["xpsr"] & 0x1FF
        for root in table.roots:
            if number in root.vectors:
                return [_locate(image, lines, root.function.address)]
    if pc is None or pc.function is None:
        return []
    target = image.function_named(pc.function)
    found = []
    for root in table.roots:
        if root.kind not in ("handler", "dispatched"):
            continue
        graph = CallGraph(image)
        graph.expand([root.function])
        if target is not None and target.address in graph.edges:
            found.append(_locate(image, lines, root.function.address))
    return found


def describe_fault(decoded: DecodedFault) -> str:
    out = [decoded.summary]
    out.extend(f"  - {detail}" for detail in decoded.details if "canary" in detail)
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


def fault_to_dict(decoded: DecodedFault) -> dict:
    def loc(location: Location | None) -> dict | None:
        if location is None:
            return None
        return {"address": location.address, "function": location.function,
                "file": location.file, "line": location.line}

    return {"summary": decoded.summary, "type": decoded.kind, "details": decoded.details,
            "stack": decoded.stack, "pc": loc(decoded.pc), "lr": loc(decoded.lr),
            "backtrace": [loc(b) for b in decoded.backtrace], "fields": decoded.fields,
            "handlers": [loc(h) for h in decoded.handlers]}
