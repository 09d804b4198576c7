"""Stores to interrupt-priority registers, and the argument values at direct calls.

analysis/priorities.py turns these into each interrupt's priority. This scanner runs the
forward dataflow of installs.py (state at an instruction = what all paths into it agree
on; every register forgotten where paths disagree) with a value lattice that also keeps
partly known words, because the writes that matter are often read-modify-write:

- ARMv6-M has no byte access to NVIC_IPR (ARMv6-M ARM B3.4.7), so CMSIS's NVIC_SetPriority
  clears one byte of the word and ORs the new priority in;
- FreeRTOS's port sets PendSV/SysTick with `SHPR3 |= 0xFF << 16` (port.c).

A value is ("const", v), ("arg", n) (argument register n at entry), ("enc", pre, sub) (what
CMSIS NVIC_EncodePriority returns for constant arguments, -O0 keeps it out of line), or
("part", known_mask, known_bits, source): the bits in known_mask are known, the rest are
what the word loaded from the constant address `source` held (None: not a load).
A store writes byte i of a word when that byte is fully known; a byte wholly unknown whose
source is the store's own address is the old contents written back (no write); anything
else is a write of an unknown value. Only stores into the Cortex-M System Control Space
(0xE000E000-0xE000EFFF) and the ECLIC (0xD2000000-0xD200FFFF) are kept.
"""

from __future__ import annotations

from dataclasses import dataclass

from capstone import arm_const

from fwharden.harden.elf.image import Function, Image
from fwharden.harden.isa import installs

_MASK = 0xFFFFFFFF
_RANGES = ((0xE000E000, 0xE000F000), (0xD2000000, 0xD2010000))
# Functions whose result a caller's store may use: r0 after the call is their value.
_ENCODERS = ("NVIC_EncodePriority", "__NVIC_EncodePriority")


@dataclass(frozen=True)
class Write:
    """A store of `value` (None: not a constant) to the byte or word at `address`.
    `known`: which bits of a byte the code fixes (0xFF for a constant; `SHPR3 |= 0xF0 << 16`
    fixes the top four, all a 4-bit NVIC implements); `value` holds those bits."""

    site: int
    address: int
    value: int | None
    known: int = 0xFF


@dataclass(frozen=True)
class PriorityScan:
    bytes: tuple[Write, ...]          # one per byte written
    words: tuple[Write, ...]          # whole-word stores (AIRCR is written as a word)
    calls: tuple[installs.CallArgs, ...]
    # Stores at an address the code computes from a base in the ranges: (site, base +
    # displacement, the address the store names before its index is added).
    unknown_address: tuple[Write, ...]


def _kept(address: int) -> bool:
    return any(lo <= address < hi for lo, hi in _RANGES)


def may_write(image: Image, func: Function) -> bool:
    """A cheap test before the scan: the function's bytes hold a literal word in one of the
    ranges, or (ARM) build the SCS base with MOVT #0xE000 / MOV.W #0xE000E000."""
    data = image.read(func.address, func.size) or b""
    if image.family != "arm":
        # RISC-V builds the address with LUI rd, 0xD2000..0xD200F (opcode 0x37, the
        # immediate in bits 31:12); C.LUI cannot reach it.
        for at in range(0, len(data) - 3, 2):
            word = int.from_bytes(data[at:at + 4], "little")
            if word & 0x7F == 0x37 and 0xD2000 <= word >> 12 < 0xD2010:
                return True
        return False
    start = (-func.address) % 4
    for offset in range(start, len(data) - 3, 4):
        if _kept(int.from_bytes(data[offset:offset + 4], "little")):
            return True
    return installs.refers_to(image, func, 0xE000E000) or \
        installs._SCS_BASE.search(data) is not None


def scan_writes(image: Image, func: Function) -> PriorityScan:
    insns = installs._code(image, func)
    if image.family == "arm":
        entry: dict = {f"r{n}": ("arg", n) for n in range(4)}
        scan = _dataflow(insns, entry,
                         lambda insn, regs, out: _step_arm(image, func, insn, regs, out),
                         installs._flow_arm)
    else:
        entry = {f"a{n}": ("arg", n) for n in range(8)}
        entry["zero"] = ("const", 0)
        scan = _dataflow(insns, entry,
                         lambda insn, regs, out: _step_riscv(func, insn, regs, out),
                         installs._flow_riscv)
    mine = [s for s in scan.stores if isinstance(s, tuple)]
    return PriorityScan(
        bytes=tuple(Write(site, address, value, known)
                    for kind, site, address, value, known in mine if kind == "byte"),
        words=tuple(Write(site, address, value, known)
                    for kind, site, address, value, known in mine if kind == "word"),
        calls=scan.calls,
        unknown_address=tuple(dict.fromkeys(Write(site, address, None, 0)
                                            for kind, site, address, _v, _k in mine
                                            if kind == "unknown")))


def _merge(a, b):
    """The value two paths agree on. Two addresses in the ranges (a pointer stepped
    through NVIC_IPR in a loop, pico-sdk's and many start-up files' way to set every
    priority) become ("ptr", the lower): a store through it is seen at an unknown
    address, never lost."""
    if a == b:
        return a
    if a is not None and b is not None and a[0] in ("const", "ptr") and \
            b[0] in ("const", "ptr") and _kept(a[1]) and _kept(b[1]):
        return ("ptr", min(a[1], b[1]))
    return None


def _dataflow(insns: list, entry: dict, step, flow) -> installs.Scan:
    """installs.py's forward dataflow (fixed point over the instructions, then one pass
    that records), with `_merge` where paths meet."""
    index = {insn.address: n for n, insn in enumerate(insns)}
    successors: list[list[int]] = []
    for n, insn in enumerate(insns):
        falls, target = flow(insn)
        nxt = [n + 1] if falls and n + 1 < len(insns) else []
        if target is not None and target in index:
            nxt.append(index[target])
        successors.append(nxt)
    states: list[dict | None] = [None] * len(insns)
    if insns:
        states[0] = dict(entry)
    scratch = installs._Out([], [], [])

    def settle() -> None:
        for _round in range(50):
            changed = False
            for n, insn in enumerate(insns):
                if states[n] is None:
                    continue
                after = dict(states[n])
                step(insn, after, scratch)
                for m in successors[n]:
                    before = states[m]
                    if before is None:
                        merged = after
                    else:
                        merged = {k: v for k in before
                                  if (v := _merge(before[k], after.get(k))) is not None}
                    if before is None or merged != before:
                        states[m] = dict(merged)
                        changed = True
            if not changed:
                return

    settle()
    # Code no known path reaches starts with every register unknown, and is scanned too.
    if any(state is None for state in states):
        states = [{} if state is None else state for state in states]
        settle()
    out = installs._Out([], [], [])
    for n, insn in enumerate(insns):
        step(insn, dict(states[n] or {}), out)
    return installs.Scan(tuple(out.installs), tuple(out.stores), tuple(out.calls))


# ----------------------------------------------------------------------------- values

def _part(value) -> tuple[int, int, int | None] | None:
    """(known mask, known bits, source) of a value, or None when nothing is known."""
    if value is None:
        return None
    if value[0] == "const":
        return (_MASK, value[1] & _MASK, None)
    if value[0] == "part":
        return value[1], value[2], value[3]
    return None


def _make(mask: int, bits: int, source: int | None):
    mask &= _MASK
    if mask == _MASK:
        return ("const", bits & _MASK)
    if mask == 0 and source is None:
        return None
    return ("part", mask, bits & mask, source)


def _or(a, b):
    pa, pb = _part(a), _part(b)
    if pa is None or pb is None:
        return None
    (ma, va, _sa), (mb, vb, _sb) = pa, pb
    mask = (ma & mb) | (ma & va) | (mb & vb)
    return _make(mask, (va | vb) & mask, _source(pa, pb))


def _and(a, b):
    pa, pb = _part(a), _part(b)
    if pa is None or pb is None:
        return None
    (ma, va, _sa), (mb, vb, _sb) = pa, pb
    mask = (ma & mb) | (ma & ~va) | (mb & ~vb)
    return _make(mask, va & vb & mask, _source(pa, pb))


def _source(pa, pb) -> int | None:
    """The load address the unknown bits still come from: only when one side is a
    constant (the other keeps its bits in place)."""
    if pa[0] == _MASK:
        return pb[2]
    if pb[0] == _MASK:
        return pa[2]
    return pa[2] if pa[2] == pb[2] else None


def _shift(value, amount: int, left: bool):
    """A shift by a constant. The unknown bits keep their source with the distance they
    moved, so `lsls r3, #8; lsrs r3, #8` (ARMv6-M clearing the top byte) leaves the rest
    of the loaded word in place, as loaded."""
    p = _part(value)
    if p is None:
        return None
    mask, bits, src = p
    source = None
    if src is not None:
        address, moved = (src, 0) if isinstance(src, int) else src
        moved += amount if left else -amount
        source = address if moved == 0 else (address, moved)
    if left:
        return _make((mask << amount) | ((1 << amount) - 1), bits << amount, source)
    high = (_MASK << (32 - amount)) & _MASK if amount else 0
    return _make((mask >> amount) | high, bits >> amount, source)


def _not(value):
    p = _part(value)
    if p is None:
        return None
    return _make(p[0], ~p[1], None)


def _stale(regs: dict, address: int | None) -> None:
    """After a store to `address`, a value loaded from that word before is no longer its
    contents: written back later (FreeRTOS's port probes IPR with 0xFF and restores the
    saved byte), it is a write of an unknown value, not 'unchanged'."""
    for key, value in list(regs.items()):
        if value is None or value[0] != "part" or value[3] is None:
            continue
        loaded = value[3] if isinstance(value[3], int) else value[3][0]
        if address is None or loaded & ~3 == address & ~3:
            regs[key] = _make(value[1], value[2], None)
            if regs[key] is None:
                del regs[key]


def _record(out, site: int, address: int | None, width: int, value,
            nominal: int = 0) -> None:
    """A store of `width` bytes: one entry per byte, and the word itself for AIRCR.
    `address` None: computed from `nominal` (base + displacement) plus an unknown index."""
    if address is None:
        out.stores.append(("unknown", site, nominal, None, 0))
        return
    if not _kept(address):
        return
    p = _part(value)
    if width == 4:
        # The word as written, with the mask of its known bits (AIRCR is a read-modify-
        # write: VECTKEY and PRIGROUP known, the rest as read).
        out.stores.append(("word", site, address, None if p is None else p[1],
                           0 if p is None else p[0]))
    for i in range(width):
        byte_mask = 0xFF << (8 * i)
        if p is None:
            out.stores.append(("byte", site, address + i, None, 0))
        elif p[0] & byte_mask == 0 and p[2] == address:
            continue      # the byte as loaded from this word, written back unchanged
        else:
            known = (p[0] >> (8 * i)) & 0xFF
            out.stores.append(("byte", site, address + i, (p[1] >> (8 * i)) & known, known))


# ----------------------------------------------------------------------------- ARM

_STORES = {"str": 4, "strh": 2, "strb": 1}
_LOADS = {"ldr": 4, "ldrh": 2, "ldrb": 1}


def _op_value(insn, op, regs):
    """The value of a source operand: an immediate, or a register with its shift."""
    if op.type == arm_const.ARM_OP_IMM:
        return ("const", op.imm & _MASK)
    if op.type != arm_const.ARM_OP_REG:
        return None
    value = regs.get(insn.reg_name(op.reg))
    if op.shift.type == arm_const.ARM_SFT_LSL and op.shift.value:
        return _shift(value, op.shift.value, True)
    if op.shift.type == arm_const.ARM_SFT_LSR and op.shift.value:
        return _shift(value, op.shift.value, False)
    if op.shift.type not in (arm_const.ARM_SFT_INVALID, 0):
        return None
    return value


def _address(insn, mem, regs) -> int | None:
    base = regs.get(insn.reg_name(mem.base)) if mem.base else None
    if base is None or base[0] != "const":
        return None
    address = base[1] + mem.disp
    if mem.index:
        index = regs.get(insn.reg_name(mem.index))
        if index is None or index[0] != "const":
            return None
        address += index[1] << (mem.lshift or 0)
    return address & _MASK


def _step_arm(image: Image, func: Function, insn, regs: dict, out) -> None:
    mnem = insn.mnemonic.split(".")[0]
    ops = insn.operands
    conditional = insn.cc not in (arm_const.ARM_CC_AL, arm_const.ARM_CC_INVALID)
    base = mnem[:-1] if mnem.endswith("s") and mnem[:-1] in (
        "orr", "and", "bic", "lsl", "lsr", "add", "sub", "mvn", "mov") else mnem
    if base in _STORES and len(ops) >= 2 and ops[-1].type == arm_const.ARM_OP_MEM:
        mem = ops[-1].mem
        reg_base = regs.get(insn.reg_name(mem.base)) if mem.base else None
        address = _address(insn, mem, regs)
        nominal = None
        index = regs.get(insn.reg_name(mem.index)) if mem.index else None
        if reg_base is not None and reg_base[0] in ("const", "ptr"):
            nominal = (reg_base[1] + mem.disp) & _MASK
            if reg_base[0] == "ptr":
                address = None      # a pointer into the range, plus a computed offset
        elif index is not None and index[0] in ("const", "ptr") and not mem.lshift:
            # `str r1, [r0, r3]` with r3 = 0xE000E400 (LLVM puts the base in the index).
            nominal, address = (index[1] + mem.disp) & _MASK, None
        if address is not None or (nominal is not None and _kept(nominal)):
            _record(out, insn.address, address, _STORES[base],
                    regs.get(insn.reg_name(ops[0].reg)), nominal or 0)
            _stale(regs, address)
        installs._step_arm(image, func, insn, regs, _Scratch(out))
        return
    if mnem in ("bl", "blx"):
        callee = image.function_at(ops[0].imm & ~1) if ops and \
            ops[0].type == arm_const.ARM_OP_IMM else None
        target = regs.get(insn.reg_name(ops[0].reg)) if ops and \
            ops[0].type == arm_const.ARM_OP_REG else None
        if target is not None and target[0] == "const":
            # `blx r4` with r4 = a function's address (clang -Oz hoists the address of a
            # function it calls several times): a direct call for the arguments.
            out.calls.append(installs.CallArgs(insn.address, target[1] & ~1,
                                               tuple(regs.get(f"r{n}") for n in range(4))))
        pre, sub = regs.get("r1"), regs.get("r2")
        installs._step_arm(image, func, insn, regs, out)
        if callee is not None and set(callee.names) & set(_ENCODERS) and pre and sub and \
                pre[0] == "const" and sub[0] == "const":
            regs["r0"] = ("enc", pre[1], sub[1])
        return
    value = "skip"
    dest = insn.reg_name(ops[0].reg) if ops and ops[0].type == arm_const.ARM_OP_REG else None
    if base in _LOADS and len(ops) == 2 and ops[1].type == arm_const.ARM_OP_MEM and \
            not insn.writeback and insn.reg_name(ops[1].mem.base) != "pc":
        address = _address(insn, ops[1].mem, regs)
        if address is not None and _kept(address):
            width = _LOADS[base]
            # A narrower load zero-extends (its upper bits are known 0), same source.
            value = ("part", 0, 0, address) if width == 4 else \
                ("part", (_MASK << (8 * width)) & _MASK, 0, address)
    elif base in ("orr", "and", "bic", "add", "sub") and len(ops) in (2, 3):
        left = regs.get(dest) if len(ops) == 2 else _op_value(insn, ops[1], regs)
        right = _op_value(insn, ops[-1], regs)
        if base == "orr":
            value = _or(left, right)
        elif base == "and":
            value = _and(left, right)
        elif base == "bic":
            value = _and(left, _not(right))
        else:
            a, b = _part(left), _part(right)
            value = None
            if a and b and a[0] == _MASK and b[0] == _MASK:
                value = ("const", (a[1] + b[1] if base == "add" else a[1] - b[1]) & _MASK)
            elif base == "add" and a and b and ((~a[0] | a[1]) & (~b[0] | b[1]) & _MASK) == 0:
                # No bit can be 1 on both sides: the sum is the OR (clang adds the new
                # priority byte into the one it cleared).
                value = _or(left, right)
            elif base == "add":
                value = _pointer(left, right)
            if base == "add" and len(ops) == 3 and insn.reg_name(ops[1].reg) == "pc":
                value = "skip"   # ADR-style: installs.py knows it
            if dest == "sp":
                value = "skip"
    elif base in ("lsl", "lsr") and len(ops) in (2, 3) and ops[-1].type == arm_const.ARM_OP_IMM:
        source = regs.get(dest) if len(ops) == 2 else _op_value(insn, ops[1], regs)
        value = _shift(source, ops[-1].imm, base == "lsl")
    elif base == "mvn" and len(ops) == 2:
        value = _not(_op_value(insn, ops[1], regs))
    elif mnem in ("uxtb", "uxth") and len(ops) == 2:
        value = _and(_op_value(insn, ops[1], regs),
                     ("const", 0xFF if mnem == "uxtb" else 0xFFFF))
    if value == "skip" or dest is None or dest in ("sp", "pc"):
        installs._step_arm(image, func, insn, regs, _Scratch(out))
        return
    if conditional or value is None:
        regs.pop(dest, None)
    else:
        regs[dest] = value


def _pointer(left, right):
    """A constant base in the ranges plus an unknown offset: ("ptr", base), so a store
    through it is seen (at an unknown address) rather than missed."""
    for one, other in ((left, right), (right, left)):
        if one is not None and one[0] in ("const", "ptr") and _kept(one[1]) and (
                other is None or other[0] != "const"):
            return ("ptr", one[1])
    return None


class _Scratch:
    """installs.py's step with its own records thrown away (its register tracking kept)."""

    def __init__(self, out) -> None:
        self.installs: list = []
        self.stores: list = []
        self.calls = out.calls


# ----------------------------------------------------------------------------- RISC-V

_RV_STORES = {"sb": 1, "sh": 2, "sw": 4, "c.sw": 4}


_RV_LOADS = {"lbu": 1, "lhu": 2, "lw": 4, "c.lw": 4, "c.lwsp": 4}


def _step_riscv(func: Function, insn, regs: dict, out) -> None:
    mnem = insn.mnemonic
    ops = [o.strip() for o in insn.op_str.split(",")] if insn.op_str else []
    slot = installs._rv_slot(ops[1]) if len(ops) == 2 else None
    if slot is not None and mnem in ("sb", "sh", "c.swsp", *_RV_STORES):
        # A -O0 spill of a byte or word (`sb a5, -22(s0)` ... `lbu a3, -22(s0)`).
        width = {"sb": 1, "sh": 2}.get(mnem, 4)
        value = _and(regs.get(ops[0]), ("const", (1 << (8 * width)) - 1)) if width < 4 \
            else regs.get(ops[0])
        if value is None:
            regs.pop(slot, None)
        else:
            regs[slot] = value
        return
    if slot is not None and mnem in _RV_LOADS:
        width = _RV_LOADS[mnem]
        value = regs.get(slot)
        if value is not None and width < 4:
            value = _and(value, ("const", (1 << (8 * width)) - 1))
        regs.pop(ops[0], None)
        if value is not None:
            regs[ops[0]] = value
        return
    if mnem in _RV_STORES:
        if len(ops) == 2 and "(" in ops[1]:
            offset_text, base = ops[1].rstrip(")").split("(")
            try:
                offset = int(offset_text or "0", 0)
            except ValueError:
                offset = 0
            reg = regs.get(base)
            if reg is not None and reg[0] in ("const", "ptr"):
                nominal = (reg[1] + offset) & _MASK
                if _kept(nominal):
                    address = nominal if reg[0] == "const" else None
                    _record(out, insn.address, address, _RV_STORES[mnem], regs.get(ops[0]),
                            nominal)
                    _stale(regs, address)
        return
    if mnem in ("add", "c.add"):
        sources = ops[1:] if len(ops) == 3 else ops
        value = _pointer(regs.get(sources[0]), regs.get(sources[-1])) if sources else None
        if value is not None:
            regs[ops[0]] = value
            return
    installs._step_riscv(func, insn, regs, _Scratch(out))
