"""Decode a parsed fault (`parse.py`) against the ELF: status bits, symbols, source lines.

Describing the result as text or JSON is `describe.py`'s job.
ARMv7-M fault status bits: ARM DDI 0403E B3.2.15 (CFSR = MMFSR | BFSR << 8 | UFSR << 16)
and B3.2.16 (HFSR). RISC-V exception codes: privileged spec 3.1.15, Table 3.6. The stack
the fault belongs to comes from the runtime's own attribution, checked against the stack
map in the ELF. A backtrace is recovered from the stack words the line carries: every
word that is a return address into code (Thumb bit set on ARM) is listed, innermost first.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from fwharden.harden.analysis.callgraph import CallGraph
from fwharden.harden.analysis.roots import find_roots
from fwharden.harden.elf.image import Image, load_image
from fwharden.harden.elf.lines import LineTable
from fwharden.harden.errors import HardenError
from fwharden.harden.faults.parse import RISCV_CAUSES, FaultLine, fault_from_record, find_fault_line
from fwharden.harden.faults.scs import (
    EXC_RETURN_SPSEL,
    SCB_CFSR_BFARVALID_Msk,
    SCB_CFSR_DACCVIOL_Msk,
    SCB_CFSR_DIVBYZERO_Msk,
    SCB_CFSR_IACCVIOL_Msk,
    SCB_CFSR_IBUSERR_Msk,
    SCB_CFSR_IMPRECISERR_Msk,
    SCB_CFSR_INVPC_Msk,
    SCB_CFSR_INVSTATE_Msk,
    SCB_CFSR_LSPERR_Msk,
    SCB_CFSR_MLSPERR_Msk,
    SCB_CFSR_MMARVALID_Msk,
    SCB_CFSR_MSTKERR_Msk,
    SCB_CFSR_MUNSTKERR_Msk,
    SCB_CFSR_NOCP_Msk,
    SCB_CFSR_PRECISERR_Msk,
    SCB_CFSR_STKERR_Msk,
    SCB_CFSR_STKOF_Msk,
    SCB_CFSR_UNALIGNED_Msk,
    SCB_CFSR_UNDEFINSTR_Msk,
    SCB_CFSR_UNSTKERR_Msk,
    SCB_HFSR_DEBUGEVT_Msk,
    SCB_HFSR_FORCED_Msk,
    SCB_HFSR_VECTTBL_Msk,
    xPSR_ISR_Msk,
)
from fwharden.harden.faults.stackmap import SECTION, StackEntry, holds_stackmap, parse_stackmap
from fwharden.harden.faults.tinygo import TinyGoFault, find_tinygo_fault, which_stack

# What each fault status bit means (ARM DDI 0403E B3.2.15 CFSR, B3.2.16 HFSR).
MMFSR = {SCB_CFSR_IACCVIOL_Msk: "instruction access violation",
         SCB_CFSR_DACCVIOL_Msk: "data access violation",
         SCB_CFSR_MUNSTKERR_Msk: "unstacking error on exception return",
         SCB_CFSR_MSTKERR_Msk: "stacking error while entering an exception",
         SCB_CFSR_MLSPERR_Msk: "lazy FP state preservation error"}
BFSR = {SCB_CFSR_IBUSERR_Msk: "instruction bus error",
        SCB_CFSR_PRECISERR_Msk: "precise data bus error",
        SCB_CFSR_IMPRECISERR_Msk: "imprecise data bus error",
        SCB_CFSR_UNSTKERR_Msk: "unstacking error on exception return",
        SCB_CFSR_STKERR_Msk: "stacking error while entering an exception",
        SCB_CFSR_LSPERR_Msk: "lazy FP state preservation error"}
UFSR = {SCB_CFSR_UNDEFINSTR_Msk: "undefined instruction",
        SCB_CFSR_INVSTATE_Msk: "invalid state (Thumb bit clear)",
        SCB_CFSR_INVPC_Msk: "invalid exception return (bad EXC_RETURN)",
        SCB_CFSR_NOCP_Msk: "no coprocessor (FPU off)",
        SCB_CFSR_STKOF_Msk: "stack limit violation (MSPLIM/PSPLIM, ARMv8-M)",
        SCB_CFSR_UNALIGNED_Msk: "unaligned access",
        SCB_CFSR_DIVBYZERO_Msk: "divide by zero"}
HFSR = {SCB_HFSR_VECTTBL_Msk: "vector table read fault",
        SCB_HFSR_FORCED_Msk: "escalated from a configurable fault",
        SCB_HFSR_DEBUGEVT_Msk: "debug event"}
STACK_TITLES = {"isr": "interrupt stack", "thread": "thread stack"}
# TinyGo writes this word at the lowest address of every goroutine stack (src/internal/
# task/task_stack.go, stackCanary) and panics when it changes: a fault next to it is a
# goroutine stack overflow.
TINYGO_STACK_CANARY = 0xB83BF575


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


@dataclass(frozen=True)
class DecodedFault:
    """What the fault was, where, on which stack, and which handler was running."""

    summary: str
    kind: str
    details: tuple[str, ...]
    stack: str | None
    stack_title: str | None
    pc: Location | None
    lr: Location | None
    backtrace: tuple[Location, ...] = ()
    fields: dict[str, int] = field(default_factory=dict)
    handlers: tuple[Location, ...] = ()      # interrupt handler(s) running


def _decode_tinygo(image: Image, lines: LineTable, fault: TinyGoFault) -> DecodedFault:
    """TinyGo's own crash line (faults/tinygo.py): the cause, the PC, and which stack of
    fwharden's TinyGo layout the SP was on (interrupt stack, a goroutine stack in the heap)."""
    f = fault.fields
    details = [RISCV_CAUSES.get(f["mcause"], f"exception {f['mcause']}")
               if "mcause" in f else fault.cause]
    stack = None
    if fault.canary:
        details.append(f"TinyGo found the goroutine stack canary 0x{TINYGO_STACK_CANARY:08x} "
                       "overwritten at a task switch: a goroutine stack (in the GC heap) "
                       "overflowed")
        stack = "a goroutine stack in the GC heap"
    arm_hardfault = image.family == "arm" and "mcause" not in f
    if "sp" in f and arm_hardfault:
        # TinyGo's HardFault_Handler (device/arm/cortexm.S) prints the SP it entered with
        # (`mov r0, sp` in handler mode: the MSP) and reads the PC from there. A goroutine
        # runs on the PSP (internal/task/task_stack_cortexm.S), so its fault frame is not
        # where that SP points, and the handler restarts SP at the initial stack pointer
        # (vector word 0) before it prints, which can overwrite a frame near that top.
        stack = which_stack(image, f["sp"])
        details.append(f"sp=0x{f['sp']:08x} is the MSP TinyGo's HardFault_Handler entered "
                       f"with, on {stack}; the fault frame is there only if the scheduler "
                       "or a handler faulted (a goroutine runs on the PSP, which TinyGo "
                       "does not print)")
    elif "sp" in f:
        stack = which_stack(image, f["sp"])
        details.append(f"sp=0x{f['sp']:08x} is on {stack}")
    elif not fault.canary:
        details.append("TinyGo's message gives no SP, so the stack cannot be named")
    if "addr" in f:
        details.append(f"at 0x{f['addr']:08x}")
    summary = f"TinyGo {'panic' if fault.canary else 'fatal error'}: {details[0]}"
    if stack:
        summary += f"; sp (the MSP) on {stack}" if arm_hardfault else f"; on {stack}"
    pc = _locate(image, lines, f["pc"]) if "pc" in f else None
    if arm_hardfault and pc is not None and image.function_at(f["pc"] & ~1) is None:
        details.append(f"pc=0x{f['pc']:08x} is in no function: not the faulting PC (the "
                       "frame TinyGo read it from is on the PSP, or was overwritten by the "
                       "handler restarting on the initial SP)")
    return DecodedFault(summary=summary, kind="tinygo", details=tuple(details), stack=stack,
                        stack_title=stack, pc=pc, lr=None, fields=dict(f))


def _bits(value: int, table: dict[int, str]) -> list[str]:
    return [text for mask, text in sorted(table.items()) if value & mask]


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


def _stack_entry(image: Image, stack_id: int | None) -> StackEntry | None:
    section = next((s for s in image.sections if s.name == SECTION), None)
    if section is None or stack_id is None:
        return None
    if not holds_stackmap(section.data):
        return None  # linked without the SCons tool's patch step: the map is still zeros
    try:
        stack_map = parse_stackmap(section.data)
    except HardenError as exc:
        raise HardenError(f"{image.path}: {exc}") from None
    return next((entry for entry in stack_map.entries if entry.id == stack_id), None)


def _stack_name(image: Image, stack_id: int | None) -> str | None:
    entry = _stack_entry(image, stack_id)
    return None if entry is None else entry.name


def _sp_below_stack(image: Image, fields: dict[str, int]) -> str | None:
    """A detail when the faulting SP lies below the lowest address of its stack: how an
    overflow shows on a core without fault status registers (ARMv6-M HardFault)."""
    entry = _stack_entry(image, fields.get("stack"))
    if "sp" in fields:
        sp = fields["sp"]
    elif "exc_return" in fields:
        # EXC_RETURN.SPSEL: the frame was stacked on PSP (ARM DDI 0403E B1.5.8).
        sp = fields.get("psp" if fields["exc_return"] & EXC_RETURN_SPSEL else "msp", 0)
    else:
        return None
    if entry is None or sp >= entry.base:
        return None
    return f"SP 0x{sp:08x} is below the stack's lowest address 0x{entry.base:08x}"


def decode_fault(elf: Path, log_text: str, record: bytes | None = None, *,
                 image: Image | None = None) -> DecodedFault:
    """The fault in `log_text` (or in a raw `record`) explained against the ELF it ran."""
    image = load_image(elf) if image is None else image
    if record is None and "FWH-FAULT" not in log_text:
        tinygo = find_tinygo_fault(log_text)
        if tinygo is not None:   # a TinyGo build: TinyGo's own fault handlers printed it
            return _decode_tinygo(image, LineTable.of(image), tinygo)
    fault = fault_from_record(record, image.family) if record is not None else \
        find_fault_line(log_text)
    if fault.arch != image.family:
        raise HardenError(f"{elf}: the fault line is from an {fault.arch} firmware, this ELF is "
                          f"{image.family}; fix: pass the ELF that produced the log")
    lines = LineTable.of(image)
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
        if cfsr & SCB_CFSR_MMARVALID_Msk:
            details.append(f"at 0x{f.get('mmfar', 0):08x}")
        elif cfsr & SCB_CFSR_BFARVALID_Msk:
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
    return DecodedFault(summary=summary, kind=fault.kind, details=tuple(details), stack=stack,
                        stack_title=STACK_TITLES.get(stack or "", stack), pc=pc, lr=lr,
                        backtrace=tuple(backtrace), fields=dict(f),
                        handlers=tuple(_running_handlers(image, lines, fault, pc)))


def _running_handlers(image: Image, lines: LineTable, fault: FaultLine,
                      pc: Location | None) -> list[Location]:
    """Which interrupt handler was running. ARM: the exception number in the stacked xPSR
    names the vector. Otherwise: every handler whose call graph reaches the faulting PC."""
    try:
        table = find_roots(image, None)
    except HardenError:
        return []
    number = fault.fields.get("xpsr", 0) & xPSR_ISR_Msk
    if fault.arch == "arm" and fault.fields.get("frame") and number:
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
