"""Constant arguments at a call site, for rules that depend on them (issue 12 item 3).

`xTimerGenericCommand(t, tmrCOMMAND_START_FROM_ISR, ...)` is what FreeRTOS's
xTimerStartFromISR expands to and is fine in an interrupt; the same function with
tmrCOMMAND_START blocks. `osSemaphoreAcquire(s, 0)` may run in an ISR, with any other
timeout it may not. The decoders do not keep small immediates (they follow addresses),
so this module reads back from the call instruction, inside its straight-line block, to
the last write of the argument register:

- a value only when that write is `mov/movs/movw rN, #imm` or `ldr rN, [pc, #n]` (ARM) or
  `li`/`addi rN, zero, imm`/`mv rN, zero` (RISC-V), not inside an IT block;
- unknown at a branch target (another path may bring another value), a call (it
  clobbers the argument registers, AAPCS 5.1.1 / RISC-V psABI), the function's start, or
  any other write (a computed value). Unknown is never treated as allowed.
"""

from __future__ import annotations

import capstone

from fwharden.harden.elf.image import Function, Image

_ARM = capstone.Cs(capstone.CS_ARCH_ARM, capstone.CS_MODE_THUMB | capstone.CS_MODE_MCLASS)
_RISCV = capstone.Cs(capstone.CS_ARCH_RISCV, capstone.CS_MODE_RISCV32 | capstone.CS_MODE_RISCVC)
ARM_ARGS = ("r0", "r1", "r2", "r3")
RISCV_ARGS = ("a0", "a1", "a2", "a3", "a4", "a5", "a6", "a7")
# Instructions that write a register other than their first operand.
_MULTI_WRITE = ("ldm", "pop", "ldrd", "ldrexd", "umull", "smull", "umlal", "smlal", "vmov",
                "mrrc", "umaal", "smlal")


def _imm(text: str) -> int | None:
    text = text.strip().lstrip("#").strip()
    try:
        return int(text, 0)
    except ValueError:
        return None


def _listing(image: Image, func: Function) -> list[tuple[int, str, str]]:
    """(address, mnemonic, operands) of the function's code, data spans skipped."""
    engine = _ARM if image.family == "arm" else _RISCV
    out: list[tuple[int, str, str]] = []
    spans = [(func.address, func.end)]
    for lo, hi in image.data_ranges(func.address, func.end):
        spans = [piece for a, b in spans
                 for piece in ((a, min(b, lo)), (max(a, hi), b)) if piece[0] < piece[1]]
    for lo, hi in spans:
        data = image.read(lo, hi - lo)
        if data is None:
            continue
        out.extend((a, m, o) for a, _s, m, o in engine.disasm_lite(data, lo))
    return out


def _branch_targets(listing: list[tuple[int, str, str]], func: Function,
                    relative: bool) -> set[int]:
    """Where branches inside the function land. Capstone prints ARM targets as addresses
    and RISC-V ones as offsets from the branch (`c.beqz a0, 4`)."""
    targets = set()
    for address, mnem, ops in listing:
        mnem = mnem.removeprefix("c.")   # RISC-V compressed c.j, c.beqz, c.bnez
        if mnem.startswith(("b", "cb", "j", "tb")):
            value = _imm(ops.split(",")[-1])
            if value is not None and relative:
                value += address
            if value is not None and func.address <= value < func.end:
                targets.add(value)
    return targets


def constant_argument(image: Image, func: Function, site: int, index: int) -> int | None:
    """The constant in argument register `index` when the instruction at `site` (a call
    or tail branch in `func`) runs, or None when the code does not fix it."""
    names = ARM_ARGS if image.family == "arm" else RISCV_ARGS
    if index >= len(names):
        return None
    reg = names[index]
    listing = _listing(image, func)
    position = next((i for i, (a, _m, _o) in enumerate(listing) if a == site), None)
    if position is None:
        return None
    landings = _branch_targets(listing, func, image.family != "arm")
    for i in range(position - 1, -1, -1):
        address, mnem, ops = listing[i]
        if listing[i + 1][0] in landings:
            return None        # another path joins between here and the call
        operands = [o.strip() for o in ops.split(",")] if ops else []
        base = mnem.split(".")[0] if image.family == "arm" else mnem.removeprefix("c.")
        if base in ("bl", "blx", "jal", "jalr", "call"):
            return None        # a call clobbers the argument registers
        if image.family == "arm" and base.startswith("it"):
            continue
        if not operands or operands[0] != reg:
            if base.startswith(_MULTI_WRITE) and reg in ops:
                return None    # writes more than its first operand: maybe this register
            continue
        if image.family == "arm" and _conditional(listing, i):
            return None        # written on one path of an IT block only
        return _value(image, address, base, operands)
    return None


def _conditional(listing: list[tuple[int, str, str]], i: int) -> bool:
    """Whether instruction i sits in an IT block: IT, ITT, ITTE, ... cover the next 1-4
    instructions (one per letter after the I; ARM DDI 0403E A7.7.38)."""
    for j in range(max(0, i - 4), i):
        mnem = listing[j][1]
        if (mnem.startswith("it") and all(c in "te" for c in mnem[1:])
                and i - j <= len(mnem) - 1):
            return True
    return False


def _value(image: Image, address: int, base: str, operands: list[str]) -> int | None:
    if image.family == "arm":
        if base in ("mov", "movs", "movw") and len(operands) == 2:
            value = _imm(operands[1])
            return None if value is None else value & 0xFFFFFFFF  # capstone may print #-1
        if base == "ldr" and len(operands) >= 2 and operands[1].startswith("[pc"):
            offset = _imm(operands[-1].rstrip("]")) if len(operands) > 2 else 0
            return image.word(((address + 4) & ~3) + (offset or 0))
        return None
    if base == "li" and len(operands) == 2:
        value = _imm(operands[1])
    elif base == "addi" and len(operands) == 3 and operands[1] == "zero":
        value = _imm(operands[2])
    else:
        value = None
    if value is not None:
        return value & 0xFFFFFFFF
    if base == "mv" and len(operands) == 2 and operands[1] == "zero":
        return 0
    return None
