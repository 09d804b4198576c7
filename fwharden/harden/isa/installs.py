"""Where code installs interrupt vectors at run time: VTOR, RAM vector tables, mtvec, mtvt.

The call-graph decoders follow control flow; this scanner follows the few values that
decide which code the hardware enters after start-up:
- ARM (ARM DDI 0403E B3.2.5): a store to SCB->VTOR (0xE000ED08) moves the table; a store
  through a pointer loaded from VTOR (`NVIC_SetVector`, pico-sdk's
  `irq_set_exclusive_handler` -> `set_raw_irq_handler_and_unlock`) installs one vector.
- RISC-V (privileged spec 3.1.7; CLIC/ECLIC mtvt = CSR 0x307): a CSR write to mtvec/mtvt.
The value installed is a constant, an argument of the function (then the callers give it:
`CallArgs` records the argument registers at each direct call; a -O0 spill to a stack slot
and its reload are followed, on ARM and RISC-V), or unknown. One linear pass
per function; at a branch target every register is forgotten, so a value is never taken
from one path for another (unknown is reported, a wrong constant would be silence).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import capstone
from capstone import arm_const

from fwharden.harden.elf.image import Function, Image

VTOR = 0xE000ED08
_VTOR_LITERALS = (VTOR.to_bytes(4, "little"), (VTOR - 8).to_bytes(4, "little"))
_CSR = {0x305: "mtvec", 0x307: "mtvt"}
_SCS_BASE = re.compile(rb"\xce\xf2\x00[\x00-\x0f]|[\x4f\x5f]\xf0\xe0[\x20-\x2f]", re.DOTALL)
# SYSTEM opcode (0x73 in bits 6:0) with CSR 0x305 or 0x307 in bits 31:20 (privileged spec
# 2.1, unprivileged spec 9.1): byte 0 = 0x73/0xF3, byte 2 high nibble 5 or 7, byte 3 = 0x30.
_CSR_WRITE = re.compile(rb"[\x73\xf3][\x00-\xff][\x50-\x5f\x70-\x7f]\x30", re.DOTALL)

# A value: ("const", int), ("arg", n) for the n-th argument register at entry, ("vtor",)
# for the table base read from VTOR (or a pointer into that table); None when unknown.
Value = tuple | None


@dataclass(frozen=True)
class Install:
    """One run-time install: what (vtor, vector, mtvec, mtvt) and the value written."""

    site: int
    what: str
    value: Value


@dataclass(frozen=True)
class Store:
    """A word stored to a constant address (a RAM vector table entry, perhaps)."""

    site: int
    address: int
    value: Value


@dataclass(frozen=True)
class CallArgs:
    site: int
    target: int
    args: tuple[Value, ...]


@dataclass(frozen=True)
class Scan:
    installs: tuple[Install, ...]
    stores: tuple[Store, ...]
    calls: tuple[CallArgs, ...]


def refers_to(image: Image, func: Function, value: int) -> bool:
    """Whether the function's bytes hold `value` as a literal word, or (ARM) a MOVT of its
    upper half (T1 encoding, ARM DDI 0403E A7.7.79): a cheap test before a full scan."""
    data = image.read(func.address, func.size) or b""
    if value.to_bytes(4, "little") in data:
        return True
    if image.family != "arm":
        return True   # RISC-V builds addresses with LUI/AUIPC: no byte test, scan it
    high = value >> 16
    first = 0xF2C0 | ((high >> 11) & 1) << 10 | (high >> 12)
    prefix = first.to_bytes(2, "little") + bytes([high & 0xFF])
    at = data.find(prefix)
    while at >= 0:
        if at + 3 < len(data) and data[at + 3] >> 4 == (high >> 8) & 7:
            return True
        at = data.find(prefix, at + 2)
    return False


def may_install(image: Image, func: Function) -> bool:
    """A cheap test on the bytes before the full scan: the VTOR address as a literal or a
    MOVT #0xE000 (ARM), a CSR write to mtvec/mtvt (RISC-V)."""
    data = image.read(func.address, func.size) or b""
    if image.family == "arm":
        if any(lit in data for lit in _VTOR_LITERALS):
            return True
        # MOVT Rd, #0xE000 (T1: imm4 = 0xE, i = imm3 = 0, imm8 = 0), and MOV(S).W Rd,
        # #0xE000E000 (T2 modified immediate 0x2E0: imm3 = 2, imm8 = 0xE0; GCC loads the
        # System Control Space base so and reaches VTOR with an offset of 0xD08).
        return _SCS_BASE.search(data) is not None
    return _CSR_WRITE.search(data) is not None


def scan(image: Image, func: Function) -> Scan:
    return _scan_arm(image, func) if image.family == "arm" else _scan_riscv(image, func)


_ARM = capstone.Cs(capstone.CS_ARCH_ARM, capstone.CS_MODE_THUMB | capstone.CS_MODE_MCLASS)
_ARM.detail = True
_RV = capstone.Cs(capstone.CS_ARCH_RISCV, capstone.CS_MODE_RISCV32 | capstone.CS_MODE_RISCVC)
_RV.detail = True


def _code(image: Image, func: Function) -> list:
    out = []
    spans = image.code_spans(func)
    engine = _ARM if image.family == "arm" else _RV
    for lo, hi in spans:
        data = image.read(lo, hi - lo) or b""
        address = lo
        while address < hi:
            insns = list(engine.disasm(data[address - lo:], address))
            out.extend(insns)
            address = insns[-1].address + insns[-1].size + 2 if insns else address + 2
    return out


@dataclass
class _Out:
    installs: list
    stores: list
    calls: list


def _dataflow(insns: list, func: Function, entry: dict[str, Value], step, flow) -> Scan:
    """Forward dataflow over the function's instructions: the state at an instruction is
    what all paths into it agree on (a register two paths give different values is
    unknown); iterated to a fixed point, then one pass records what is installed."""
    index = {insn.address: n for n, insn in enumerate(insns)}
    successors: list[list[int]] = []
    for n, insn in enumerate(insns):
        falls, target = flow(insn)
        nxt = [n + 1] if falls and n + 1 < len(insns) else []
        if target is not None and target in index:
            nxt.append(index[target])
        successors.append(nxt)
    states: list[dict[str, Value] | None] = [None] * len(insns)
    if insns:
        states[0] = dict(entry)
    scratch = _Out([], [], [])

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
                    merged = after if before is None else {
                        k: v for k, v in before.items() if after.get(k) == v}
                    if before is None or merged != before:
                        states[m] = dict(merged)
                        changed = True
            if not changed:
                return

    settle()
    # Code no known path reaches (a jump-table case, a handler's second entry) starts with
    # every register unknown, and is scanned too: never skipped.
    if any(state is None for state in states):
        states = [{} if state is None else state for state in states]
        settle()
    out = _Out([], [], [])
    for n, insn in enumerate(insns):
        step(insn, dict(states[n] or {}), out)
    return Scan(tuple(out.installs), tuple(out.stores), tuple(out.calls))


def _scan_arm(image: Image, func: Function) -> Scan:
    return _dataflow(_code(image, func), func, {f"r{n}": ("arg", n) for n in range(4)},
                     lambda insn, regs, out: _step_arm(image, func, insn, regs, out), _flow_arm)


def _flow_arm(insn) -> tuple[bool, int | None]:
    """(execution can continue with the next instruction, branch target if any)."""
    mnem = insn.mnemonic.split(".")[0]
    ops = insn.operands
    jump = capstone.CS_GRP_JUMP in insn.groups and mnem not in ("bl", "blx")
    target = ops[-1].imm if jump and ops and ops[-1].type == arm_const.ARM_OP_IMM else None
    unconditional = insn.cc in (arm_const.ARM_CC_AL, arm_const.ARM_CC_INVALID)
    writes_pc = ops and ops[0].type == arm_const.ARM_OP_REG and \
        insn.reg_name(ops[0].reg) == "pc"
    ends = unconditional and (mnem in ("b", "bx", "tbb", "tbh", "udf") or writes_pc or (
        mnem in ("pop", "ldm", "ldmia") and "pc" in insn.op_str))
    return not ends, target


def _step_arm(image: Image, func: Function, insn, regs: dict[str, Value], out: _Out) -> None:
    installs, stores, calls = out.installs, out.stores, out.calls
    mnem = insn.mnemonic.split(".")[0]
    ops = insn.operands
    name = insn.reg_name
    conditional = insn.cc not in (arm_const.ARM_CC_AL, arm_const.ARM_CC_INVALID) and \
        capstone.CS_GRP_JUMP not in insn.groups
    written = _written(insn)
    value: Value = None
    if mnem == "b" and ops and ops[0].type == arm_const.ARM_OP_IMM and \
            not func.address <= ops[0].imm < func.end:
        # A tail call passes the argument registers on unchanged.
        calls.append(CallArgs(insn.address, ops[0].imm & ~1,
                              tuple(regs.get(f"r{n}") for n in range(4))))
        return
    if mnem in ("bl", "blx"):
        if ops and ops[0].type == arm_const.ARM_OP_IMM:
            calls.append(CallArgs(insn.address, ops[0].imm & ~1,
                                  tuple(regs.get(f"r{n}") for n in range(4))))
        for reg in ("r0", "r1", "r2", "r3", "r12", "lr"):
            regs.pop(reg, None)
        return
    if mnem in ("str",) and len(ops) == 2 and ops[1].type == arm_const.ARM_OP_MEM:
        stored = regs.get(name(ops[0].reg))
        mem = ops[1].mem
        base = regs.get(name(mem.base)) if mem.base else None
        if name(mem.base) in _FRAME_BASES and not mem.index and not insn.writeback:
            # A -O0 spill: the value lives in the stack slot until it is loaded back.
            slot = f"[{name(mem.base)},{mem.disp}]"
            if stored is None:
                regs.pop(slot, None)
            else:
                regs[slot] = stored
        if base == ("vtor",):
            installs.append(Install(insn.address, "vector", stored))
        elif base is not None and base[0] == "const":
            # With an index register the address is somewhere above the base: recorded
            # at the base (a RAM vector table is matched by its range).
            address = (base[1] + mem.disp) & 0xFFFFFFFF
            if address == VTOR and not mem.index:
                installs.append(Install(insn.address, "vtor", stored))
            elif stored is None or stored[0] in ("const", "arg"):
                stores.append(Store(insn.address, address, stored))
    elif mnem == "ldr" and len(ops) == 2 and ops[1].type == arm_const.ARM_OP_MEM:
        mem = ops[1].mem
        if name(mem.base) == "pc" and not mem.index:
            word = image.word(((insn.address + 4) & ~3) + mem.disp)
            value = None if word is None else ("const", word)
        elif name(mem.base) in _FRAME_BASES and not mem.index and not insn.writeback:
            value = regs.get(f"[{name(mem.base)},{mem.disp}]")
        else:
            base = regs.get(name(mem.base)) if mem.base else None
            if base is not None and base[0] == "const" and not mem.index and \
                    (base[1] + mem.disp) & 0xFFFFFFFF == VTOR:
                value = ("vtor",)
    elif mnem in ("movw", "mov", "movs") and len(ops) == 2:
        if ops[1].type == arm_const.ARM_OP_IMM:
            value = ("const", ops[1].imm & 0xFFFFFFFF)
        elif ops[1].type == arm_const.ARM_OP_REG:
            value = regs.get(name(ops[1].reg))
    elif mnem == "movt" and len(ops) == 2:
        low = regs.get(name(ops[0].reg))
        if low is not None and low[0] == "const":
            value = ("const", (low[1] & 0xFFFF) | (ops[1].imm << 16))
    elif mnem == "adr" or (mnem in ("add", "addw") and len(ops) == 3
                           and ops[1].type == arm_const.ARM_OP_REG
                           and name(ops[1].reg) == "pc"):
        value = ("const", ((insn.address + 4) & ~3) + ops[-1].imm)
    elif mnem in ("add", "adds", "addw", "sub", "subs") and len(ops) >= 2:
        source = regs.get(name(ops[1].reg)) if ops[1].type == arm_const.ARM_OP_REG else \
            regs.get(name(ops[0].reg))
        if source == ("vtor",):
            value = ("vtor",)  # a pointer into the table (base + 4 * index)
    if any(reg in _FRAME_BASES for reg in _all_written(insn)):
        # SP or the frame pointer moved: the slots named through it are not the same.
        for key in [k for k in regs if k.startswith("[")]:
            if key[1:].split(",")[0] in _all_written(insn):
                del regs[key]
    for reg in written:
        if conditional:
            regs.pop(reg, None)
        elif value is not None and reg == written[0]:
            regs[reg] = value
        else:
            regs.pop(reg, None)


_FRAME_BASES = ("sp", "r7", "r11")


def _all_written(insn) -> list[str]:
    cached = getattr(insn, "_fwh_all_written", None)
    if cached is None:
        try:
            cached = [insn.reg_name(r) for r in insn.regs_access()[1]]
        except capstone.CsError:
            cached = []
        insn._fwh_all_written = cached  # the dataflow steps each instruction many times
    return cached


def _written(insn) -> list[str]:
    cached = getattr(insn, "_fwh_written", None)
    if cached is None:
        cached = insn._fwh_written = _written_uncached(insn)
    return cached


def _written_uncached(insn) -> list[str]:
    """Registers the instruction writes (capstone's access info; destination first)."""
    names = list(_all_written(insn))
    ops = insn.operands
    if ops and ops[0].type == arm_const.ARM_OP_REG and insn.mnemonic.split(".")[0] not in (
            "str", "strb", "strh", "strd", "cmp", "cmn", "tst", "teq", "push", "stm", "stmdb"):
        first = insn.reg_name(ops[0].reg)
        names = [first, *(n for n in names if n != first)]
    return [n for n in names if n not in ("pc", "sp", "itstate", "cpsr", "apsr", None)]


def _scan_riscv(image: Image, func: Function) -> Scan:
    entry: dict[str, Value] = {f"a{n}": ("arg", n) for n in range(8)}
    entry["zero"] = ("const", 0)
    return _dataflow(_code(image, func), func, entry,
                     lambda insn, regs, out: _step_riscv(func, insn, regs, out), _flow_riscv)


_RV_BRANCHES = ("beq", "bne", "blt", "bge", "bltu", "bgeu", "beqz", "bnez", "blez", "bgez",
                "bltz", "bgtz", "bgt", "ble", "bgtu", "bleu", "c.beqz", "c.bnez")


def _flow_riscv(insn) -> tuple[bool, int | None]:
    mnem = insn.mnemonic
    ops = [o.strip() for o in insn.op_str.split(",")] if insn.op_str else []
    if mnem in _RV_BRANCHES or mnem in ("j", "c.j") or (mnem == "jal" and ops and
                                                        ops[0] == "zero"):
        try:
            target = (insn.address + int(ops[-1], 0)) & 0xFFFFFFFF
        except (ValueError, IndexError):
            target = None
        return mnem in _RV_BRANCHES, target
    if mnem in ("jr", "c.jr", "ret", "mret", "sret", "unimp", "c.unimp") or (
            mnem == "jalr" and ops and ops[0] == "zero"):
        return False, None
    return True, None


def _step_riscv(func: Function, insn, regs: dict[str, Value], out: _Out) -> None:
    mnem = insn.mnemonic
    ops = [o.strip() for o in insn.op_str.split(",")] if insn.op_str else []
    target, link = _rv_transfer(insn.address, mnem, ops, regs)
    if target is not None or mnem in ("jal", "c.jal", "jalr", "c.jalr", "jr", "c.jr",
                                      "j", "c.j", "ret"):
        if target is not None and (link != "zero" or not func.address <= target < func.end):
            # A call, or a tail call (which passes the argument registers on unchanged).
            out.calls.append(CallArgs(insn.address, target,
                                      tuple(regs.get(f"a{n}") for n in range(8))))
        if link != "zero":
            for reg in ("ra", "t0", "t1", "t2", "t3", "t4", "t5", "t6",
                        *(f"a{n}" for n in range(8))):
                regs.pop(reg, None)
        return
    if mnem in ("csrw", "csrrw", "csrs", "csrrs") and len(ops) >= 2:
        csr, source = (ops[0], ops[1]) if mnem in ("csrw", "csrs") else (ops[1], ops[2])
        number = _csr_number(csr)
        if number in _CSR:
            out.installs.append(Install(insn.address, _CSR[number], regs.get(source)))
        if mnem in ("csrrw", "csrrs"):
            regs.pop(ops[0], None)
        return
    if mnem in ("sw", "c.sw", "c.swsp") and len(ops) == 2:
        slot = _rv_slot(ops[1])
        if slot is not None:
            # A -O0 spill (`sw a0, -20(s0)`): the value lives in the slot until loaded back.
            if regs.get(ops[0]) is None:
                regs.pop(slot, None)
            else:
                regs[slot] = regs[ops[0]]
        return
    if not ops or mnem.startswith(("s", "c.s", "b", "c.b", "j", "c.j", "fs")) and \
            mnem not in ("sub", "sll", "slli", "srl", "srli", "sra", "srai", "slt", "sltu",
                         "c.sub", "c.slli", "c.srli", "c.srai", "sltiu", "slti", "seqz",
                         "snez"):
        return
    dest = ops[0]
    value = _rv_value(insn.address, mnem, ops, regs)
    regs.pop(dest, None)
    if dest in _RV_FRAME_BASES:
        # sp or the frame pointer moved: the slots named through it are not the same.
        for key in [k for k in regs if k.startswith(f"[{dest},")]:
            del regs[key]
    if value is not None and dest != "zero":
        regs[dest] = value


_RV_FRAME_BASES = ("sp", "s0")
_RV_MEM = re.compile(r"^(-?(?:0x[0-9a-f]+|\d+))\((sp|s0)\)$")


def _rv_slot(operand: str) -> str | None:
    """The stack slot `off(sp)` / `off(s0)` names, as a key of the register state."""
    match = _RV_MEM.match(operand)
    return None if match is None else f"[{match.group(2)},{int(match.group(1), 0)}]"


def _rv_transfer(address: int, mnem: str, ops: list[str],
                 regs: dict[str, Value]) -> tuple[int | None, str]:
    """(target when known, link register) of a jump; (None, "zero") for anything else."""
    try:
        if mnem in ("jal", "c.jal", "j", "c.j"):
            link = ops[0] if mnem == "jal" and len(ops) == 2 else (
                "zero" if mnem in ("j", "c.j") else "ra")
            return (address + int(ops[-1], 0)) & 0xFFFFFFFF, link
        if mnem in ("jalr", "jr", "c.jalr", "c.jr"):
            link = "ra" if mnem in ("jalr", "c.jalr") else "zero"
            operand = ops[-1]
            if len(ops) == 3:          # jalr rd, rs1, imm
                link, base, offset = ops[0], ops[1], int(ops[2], 0)
            elif "(" in operand:       # jalr 20(ra) / jalr rd, 20(ra)
                offset_text, base = operand.rstrip(")").split("(")
                offset = int(offset_text or "0", 0)
                if len(ops) == 2:
                    link = ops[0]
            else:
                base, offset = operand, 0
            value = regs.get(base)
            if value is not None and value[0] == "const":
                return (value[1] + offset) & 0xFFFFFFFF, link
            return None, link
    except (ValueError, IndexError):
        pass
    return None, "zero"


def _csr_number(text: str) -> int | None:
    names = {"mtvec": 0x305, "mtvt": 0x307}
    if text in names:
        return names[text]
    try:
        return int(text, 0)
    except ValueError:
        return None


def _rv_value(address: int, mnem: str, ops: list[str], regs: dict[str, Value]) -> Value:
    def const(reg: str) -> int | None:
        value = regs.get(reg)
        return value[1] if value is not None and value[0] == "const" else None

    try:
        if mnem in ("lui", "c.lui"):
            return ("const", (int(ops[1], 0) << 12) & 0xFFFFFFFF)
        if mnem == "auipc":
            imm = int(ops[1], 0)
            imm = imm - (1 << 20) if imm >= 1 << 19 else imm
            return ("const", (address + (imm << 12)) & 0xFFFFFFFF)
        if mnem in ("li", "c.li"):
            return ("const", int(ops[1], 0) & 0xFFFFFFFF)
        if mnem in ("mv", "c.mv"):
            return regs.get(ops[1])
        if mnem == "addi" and const(ops[1]) is not None:
            return ("const", (const(ops[1]) + int(ops[2], 0)) & 0xFFFFFFFF)
        if mnem == "c.addi" and const(ops[0]) is not None:
            return ("const", (const(ops[0]) + int(ops[1], 0)) & 0xFFFFFFFF)
        if mnem == "ori" and const(ops[1]) is not None:
            return ("const", const(ops[1]) | (int(ops[2], 0) & 0xFFFFFFFF))
        if mnem in ("ori", "addi") and len(ops) == 3 and int(ops[2], 0) == 0:
            return regs.get(ops[1])
        if mnem in ("lw", "c.lw", "c.lwsp") and len(ops) == 2:
            slot = _rv_slot(ops[1])
            return None if slot is None else regs.get(slot)
    except (ValueError, IndexError):
        return None
    return None
