"""Memory accesses and interrupt masking in one function, for the data-race rule.

The call-graph decoders (`thumb.py`, `rv32.py`) skip what does not move SP or PC; this
module reads every instruction once more, for the functions the race rule looks at, and
runs a small forward data flow over the function's blocks with this state:

- the interrupt mask: PRIMASK (`cpsid i`/`cpsie i`, `msr primask`; ARM DDI 0403E B5.2.3)
  and BASEPRI (`msr basepri`/`basepri_max`, B1.4.3) on Cortex-M; mstatus.MIE on RISC-V
  (`csrci`/`csrsi`/`csrc`/`csrs`/`csrw`/`csrrci mstatus`, privileged spec 3.1.6.1);
- register values: constants from literal pools, MOVW/MOVT, MOV, ADD/SUB #imm, LUI,
  AUIPC, ADDI, LI, MV, `gp` (`__global_pointer$`), and a saved mask (`mrs rX, primask`,
  `csrrci rX, mstatus, 8`) so that restoring it (`msr primask, rX`, `csrw mstatus, rX`)
  gives back the state it was saved in.

Where paths join, the state is what holds on every path: the mask that blocks least and
the registers equal on both (a meet), so an access counts as protected only when every
path to it is. Whatever the walk cannot follow (an unknown mask value, a table jump) is
taken as unmasked. Calls are left to the caller's `on_call`, which knows the callees: it
returns the mask after the call and the registers the callee may write.

Each load or store gives an `Access`: site, resolved address (None when the base is not
a known constant), width, how many separate memory accesses the instruction makes (LDRD,
LDM, VLDR of a D register, RV32 FLD: two or more, because single-copy atomicity is per
word: ARM DDI 0403E A3.5.3, RISC-V unprivileged spec 20191213 section 11.1 for FLD/FSD on
RV32), whether it is atomic (LDREX/STREX, AMO, LR/SC) and the mask at the site.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import capstone

from fwharden.harden.elf.image import Function, Image
from fwharden.harden.isa.listing import Listing

_ARM = capstone.Cs(capstone.CS_ARCH_ARM, capstone.CS_MODE_THUMB | capstone.CS_MODE_MCLASS)
_RV = capstone.Cs(capstone.CS_ARCH_RISCV, capstone.CS_MODE_RISCV32 | capstone.CS_MODE_RISCVC)

AccessKind = Literal["load", "store"]
# BASEPRI value that masks nothing (B1.4.3: 0 disables the BASEPRI mask).
NO_BASEPRI = 0


@dataclass(frozen=True, order=True)
class Mask:
    """What interrupts are masked. `all`: PRIMASK (ARM) or MIE clear (RISC-V): every
    configurable-priority interrupt is held off. `basepri`: the BASEPRI value (raw 8-bit
    form, `priority << (8 - priority bits)`), 0 when none."""

    all: bool = False
    basepri: int = NO_BASEPRI

    def meet(self, other: Mask) -> Mask:
        """What holds on both paths: the mask that blocks least."""
        if self == other:
            return self
        if NO_BASEPRI in (self.basepri, other.basepri):
            basepri = NO_BASEPRI
        else:
            basepri = max(self.basepri, other.basepri)
        return Mask(self.all and other.all, basepri)


UNMASKED = Mask()
MASKED = Mask(all=True)


@dataclass(frozen=True)
class Saved:
    """A register holding a saved mask (`mrs rX, primask`, `csrrci rX, mstatus, 8`)."""

    register: str      # "primask", "basepri", "mstatus" or "mstatus-mie" (its MIE bit only)
    mask: Mask


@dataclass(frozen=True)
class Access:
    """One load or store of memory at a known or unknown address."""

    site: int
    kind: AccessKind
    address: int | None      # resolved target; None: base register not a known constant
    width: int               # bytes the instruction moves
    parts: int               # separate memory accesses it makes (LDRD: 2, LDM {r0-r3}: 4)
    atomic: bool             # LDREX/STREX, LDAEX, AMO, LR/SC
    mask: Mask
    indexed: bool = False    # [Rb, Ri]: an element of the array at `address`, index unknown


@dataclass(frozen=True)
class Walk:
    """What one function does given the state it is entered with."""

    accesses: tuple[Access, ...]
    exit_mask: Mask | None          # None: no return reached (the function never returns)
    masks: tuple[tuple[int, Mask], ...]  # mask at every instruction, in address order


# (site, mask at the call, argument registers -> constant) -> (mask after, registers the
# callee may write, or None for all caller-saved ones)
CallHook = Callable[[int, Mask, dict[str, int], bool], tuple[Mask | None, frozenset[str] | None]]

_IMM = re.compile(r"#(-?0x[0-9a-f]+|-?\d+)")
_MEM = re.compile(r"\[(\w+)(?:,\s*(#-?(?:0x[0-9a-f]+|\d+)|\w+)(?:,\s*[a-z]+\s*#\d+)?)?\](!?)")
_RVMEM = re.compile(r"^(-?(?:0x[0-9a-f]+|\d+))?\((\w+)\)$")
_CONDS = ("eq", "ne", "cs", "hs", "cc", "lo", "mi", "pl", "vs", "vc", "hi", "ls", "ge", "lt",
          "gt", "le")
ARM_CALLER_SAVED = frozenset({"r0", "r1", "r2", "r3", "ip", "lr"})
RV_CALLER_SAVED = frozenset({"ra", "t0", "t1", "t2", "t3", "t4", "t5", "t6",
                             "a0", "a1", "a2", "a3", "a4", "a5", "a6", "a7"})
ARM_ARGS = ("r0", "r1", "r2", "r3")
RV_ARGS = ("a0", "a1", "a2", "a3", "a4", "a5", "a6", "a7")
_ARM_NO_DEST = ("str", "stm", "push", "vstr", "vstm", "vpush", "cmp", "cmn", "tst", "teq",
                "it", "nop", "dmb", "dsb", "isb", "wfi", "wfe", "sev", "bkpt", "svc", "cps",
                "msr", "b", "cb", "tb", "udf", "vcmp", "pld", "pli", "clrex", "yield")
_RV_NO_DEST = ("s", "c.s", "fs", "c.fs", "fence", "ecall", "ebreak", "c.ebreak", "wfi", "nop",
               "c.nop", "csrw", "csrs", "csrc", "b", "c.b", "j", "c.j", "mret", "ret", "c.jr",
               "jr")


def _int(text: str) -> int | None:
    try:
        return int(text.strip().lstrip("#"), 0)
    except ValueError:
        return None


def _ops(text: str) -> list[str]:
    out, depth, cur = [], 0, ""
    for ch in text:
        if ch in "[{(":
            depth += 1
        elif ch in "]})":
            depth -= 1
        if ch == "," and depth == 0:
            out.append(cur.strip())
            cur = ""
        else:
            cur += ch
    if cur.strip():
        out.append(cur.strip())
    return out


@dataclass(frozen=True)
class _Insn:
    address: int
    size: int
    mnem: str
    ops: tuple[str, ...]
    text: str


def instructions(image: Image, func: Function) -> list[_Insn]:
    """Every instruction of `func` (ARM: its $d data spans skipped), text parsed once."""
    engine = _ARM if image.family == "arm" else _RV
    out: list[_Insn] = []
    for lo, hi in image.code_spans(func):
        data = image.read(lo, hi - lo)
        if data is None:
            continue
        address = lo
        while address < hi:
            listing = Listing(engine, data, address, offset=address - lo)
            for a, s, m, o in listing.items():
                out.append(_Insn(a, s, m, tuple(_ops(o)), o))
            address = max(address, listing.end) if listing.count else address
            if address < hi:
                address += 2   # undecodable halfword: the call-graph decoder reports it
    return out


def _blocks(insns: list[_Insn], func: Function, family: str):
    """Leaders (indices starting a block) and, per instruction index, its successors'
    indices (None: falls to the next) for the control flow inside the function."""
    index = {insn.address: i for i, insn in enumerate(insns)}
    succ: dict[int, tuple[tuple[int, ...], bool]] = {}  # i -> (targets inside, falls through)
    leaders = {0}
    it_left = 0
    for i, insn in enumerate(insns):
        mnem = insn.mnem
        conditional = it_left > 0
        if it_left:
            it_left -= 1
        if family == "arm" and re.fullmatch(r"it[te]{0,3}", mnem):
            it_left = len(mnem) - 1
            continue
        kind, targets = (_arm_flow if family == "arm" else _rv_flow)(insn, func)
        if kind == "next":
            continue
        inside = tuple(index[t] for t in targets if t in index)
        if kind == "branch":
            falls = conditional
        elif kind == "cond":
            falls = True
        elif kind == "table":
            # A jump table: the entries are not read here; every later block may follow.
            inside = tuple(j for j in range(i + 1, len(insns)))
            falls = False
        else:  # "end": return or tail leaving the function
            falls = conditional
        succ[i] = (inside, falls)
        leaders.update(inside)
        if i + 1 < len(insns):
            leaders.add(i + 1)
    return sorted(leaders), succ


_B_FORMS = frozenset({"b", "cbz", "cbnz", *(f"b{c}" for c in _CONDS)})


def _arm_flow(insn: _Insn, func: Function) -> tuple[str, tuple[int, ...]]:
    mnem, ops = insn.mnem, insn.ops
    base = mnem.split(".")[0]
    if base in _B_FORMS:
        target = _int(ops[-1]) if ops else None
        if target is None:
            return "end", ()
        if func.address <= target < func.end:
            return ("branch" if base == "b" else "cond"), (target,)
        return ("end" if base == "b" else "cond"), ()
    if base in ("tbb", "tbh"):
        return "table", ()
    if base.startswith("bx") or (ops and ops[0] == "pc") or (
            base.startswith(("pop", "ldm")) and "pc" in insn.text):
        if ops and ops[0] == "pc" and base.startswith("ldr") and "," in insn.text and \
                not insn.text.startswith("pc, [sp"):
            return "table", ()
        return "end", ()
    if base == "udf":
        return "end", ()
    return "next", ()


def _rv_flow(insn: _Insn, func: Function) -> tuple[str, tuple[int, ...]]:
    mnem, ops = insn.mnem, insn.ops
    plain = mnem.removeprefix("c.")
    if plain in ("j",) or (plain == "jal" and ops and ops[0] == "zero"):
        offset = _int(ops[-1]) if ops else None
        target = None if offset is None else (insn.address + offset) & 0xFFFFFFFF
        if target is not None and func.address <= target < func.end:
            return "branch", (target,)
        return "end", ()
    if plain.startswith("b") and plain not in ("bset", "bclr"):
        offset = _int(ops[-1]) if ops else None
        target = None if offset is None else (insn.address + offset) & 0xFFFFFFFF
        if target is not None and func.address <= target < func.end:
            return "cond", (target,)
        return "cond", ()
    if plain in ("ret", "mret", "sret", "jr") or (plain == "jalr" and ops and ops[0] == "zero"):
        return "end", ()
    if plain == "unimp":
        return "end", ()
    return "next", ()


class MemoryMap:
    """Which section an address is in, by bisection and memo (the walk asks per load)."""

    def __init__(self, image: Image) -> None:
        self.image = image
        self.sections = sorted((s for s in image.sections if s.size), key=lambda s: s.address)
        self.starts = [s.address for s in self.sections]
        self.memo: dict[int, object] = {}

    def section(self, address: int):
        if address in self.memo:
            return self.memo[address]
        found = None
        index = bisect.bisect_right(self.starts, address) - 1
        # Sections do not overlap in a linked image; look back a little for safety.
        for section in self.sections[max(0, index - 2):index + 1]:
            if section.address <= address < section.end:
                found = section
        self.memo[address] = found
        return found

    def word(self, address: int) -> int | None:
        section = self.section(address)
        if section is None or not section.data or address + 4 > section.end:
            return None
        offset = address - section.address
        return int.from_bytes(section.data[offset:offset + 4], "little")

    def is_global(self, address: int) -> bool:
        """RAM the program's variables live in: a writable, non-executable section."""
        section = self.section(address)
        return section is not None and section.writable and not section.executable

    def is_constant(self, address: int) -> bool:
        section = self.section(address)
        return section is not None and not section.writable and not section.executable


class _State:
    __slots__ = ("mask", "regs")

    def __init__(self, mask: Mask, regs: dict[str, object]) -> None:
        self.mask = mask
        self.regs = regs

    def copy(self) -> _State:
        return _State(self.mask, dict(self.regs))

    def meet(self, other: _State) -> _State:
        regs = {k: v for k, v in self.regs.items() if other.regs.get(k) == v}
        return _State(self.mask.meet(other.mask), regs)

    def same(self, other: _State) -> bool:
        return self.mask == other.mask and self.regs == other.regs


@dataclass
class Body:
    """A function's instructions and blocks, decoded once for every walk of it."""

    insns: list[_Insn]
    leaders: list[int]
    succ: dict[int, tuple[tuple[int, ...], bool]]


def body(image: Image, func: Function) -> Body:
    insns = instructions(image, func)
    leaders, succ = _blocks(insns, func, image.family) if insns else ([], {})
    return Body(insns, leaders, succ)


def walk(image: Image, func: Function, entry: Mask, args: dict[str, int],
         on_call: CallHook, code: Body | None = None,
         memory: MemoryMap | None = None) -> Walk:
    """Run the data flow over `func` entered with mask `entry` and argument registers
    holding `args`; see the module docstring."""
    family = image.family
    code = body(image, func) if code is None else code
    insns = code.insns
    if not insns:
        return Walk((), entry, ())
    leaders, succ = code.leaders, code.succ
    block_of_leader = {start: n for n, start in enumerate(leaders)}
    ends = leaders[1:] + [len(insns)]
    regs: dict[str, object] = dict(args)
    if family == "riscv":
        regs["zero"] = 0
        gp = image.symbols.get("__global_pointer$")
        if gp is not None:
            regs["gp"] = gp
    states: dict[int, _State] = {0: _State(entry, regs)}
    masks: dict[int, Mask] = {}
    accesses: dict[int, list[Access]] = {}
    exit_mask: Mask | None = None
    step = _arm_step if family == "arm" else _rv_step
    memory = MemoryMap(image) if memory is None else memory
    work = [0]
    visits = 0
    while work:
        n = work.pop()
        visits += 1
        if visits > 20 * len(leaders) + 100:
            break   # the lattice is finite; this only bounds pathological inputs
        state = states[n].copy()
        start, stop = leaders[n], ends[n]
        out_edges: list[tuple[int, _State]] = []
        it_left = 0
        for i in range(start, stop):
            insn = insns[i]
            masks[insn.address] = state.mask
            conditional = it_left > 0
            if it_left:
                it_left -= 1
            if family == "arm" and re.fullmatch(r"it[te]{0,3}", insn.mnem):
                it_left = len(insn.mnem) - 1
                continue
            before = state.copy() if conditional else None
            found, ended, tail_mask = step(memory, insn, state, on_call, func)
            if found:
                accesses[insn.address] = found
            if before is not None:
                state = state.meet(before)
            if ended == "return":
                exit_mask = state.mask if exit_mask is None else exit_mask.meet(state.mask)
            elif ended == "tail" and tail_mask is not None:
                exit_mask = tail_mask if exit_mask is None else exit_mask.meet(tail_mask)
            if i in succ:
                inside, falls = succ[i]
                if ended != "never":      # a branch the saved mask shows is not taken
                    for j in inside:
                        out_edges.append((j, state))
                if not falls or ended == "always":
                    break
        else:
            if stop < len(insns):
                out_edges.append((stop, state))
        for j, out in out_edges:
            m = block_of_leader.get(j)
            if m is None:
                continue
            old = states.get(m)
            new = out if old is None else old.meet(out)
            if old is None or not old.same(new):
                states[m] = new.copy()
                work.append(m)
    flat = tuple(a for address in sorted(accesses) for a in accesses[address])
    return Walk(flat, exit_mask, tuple(sorted(masks.items())))


# -- ARM -------------------------------------------------------------------------------------

def _arm_width(base: str, ops: tuple[str, ...]) -> tuple[int, int] | None:
    """(bytes, separate accesses) of a load/store mnemonic; None if not one."""
    for prefix in ("ldrex", "strex", "ldaex", "stlex"):
        if base.startswith(prefix):
            rest = base[len(prefix):]
            return {"": (4, 1), "b": (1, 1), "h": (2, 1), "d": (8, 1)}.get(rest, (4, 1))
    if base in ("ldrd", "strd"):
        return 8, 2
    if base.startswith(("ldm", "stm", "vldm", "vstm")):
        regs = _reglist(ops)
        each = 8 if regs and regs[0].startswith("d") else 4
        return each * len(regs), len(regs) * (2 if each == 8 else 1)
    if base in ("vldr", "vstr"):
        wide = ops and ops[0].startswith("d")
        return (8, 2) if wide else (4, 1)
    if base.startswith(("ldr", "str")):
        rest = base[3:]
        rest = rest.removesuffix("t")  # ldrt/strt: unprivileged forms
        return {"": (4, 1), "b": (1, 1), "h": (2, 1), "sb": (1, 1), "sh": (2, 1)}.get(rest)
    return None


def _reglist(ops: tuple[str, ...]) -> list[str]:
    for op in ops:
        if op.startswith("{"):
            out = []
            for item in op.strip("{}").split(","):
                item = item.strip()
                if "-" in item:
                    lo, hi = (p.strip() for p in item.split("-"))
                    out += [f"{lo[0]}{k}" for k in range(int(lo[1:]), int(hi[1:]) + 1)]
                elif item:
                    out.append(item)
            return out
    return []


def _arm_cond_base(mnem: str) -> str:
    """The mnemonic without .w/.n and without a condition suffix inside an IT block."""
    base = mnem.split(".")[0]
    if len(base) > 3 and base[-2:] in _CONDS and base[:-2] in (
            "ldr", "str", "ldrb", "strb", "ldrh", "strh", "ldrd", "strd", "mov", "movs", "add",
            "adds", "sub", "subs", "msr", "mrs", "bx", "bl", "blx", "pop", "ldm", "stm", "mvn",
            "orr", "and", "ldrsb", "ldrsh", "movw", "movt", "b", "cpsid", "cpsie"):
        return base[:-2]
    return base


def _arm_step(memory: MemoryMap, insn: _Insn, state: _State, on_call: CallHook,
              func: Function):
    """Apply one Thumb instruction; (accesses, "return"/"tail"/None, mask after a tail)."""
    regs = state.regs
    ops = insn.ops
    base = _arm_cond_base(insn.mnem)
    found: list[Access] = []
    # -- interrupt mask ------------------------------------------------------------------
    if base in ("cpsid", "cpsie"):
        state.mask = Mask(base == "cpsid", state.mask.basepri) if ops and "i" in ops[0] else (
            Mask(True, state.mask.basepri) if base == "cpsid" else Mask(False, state.mask.basepri))
        return found, None, None
    if base == "mrs" and len(ops) == 2:
        special = ops[1].lower()
        if special in ("primask", "basepri"):
            regs[ops[0]] = Saved(special, state.mask)
        else:
            regs.pop(ops[0], None)
        return found, None, None
    if base == "msr" and len(ops) == 2:
        special = ops[0].lower()
        value = regs.get(ops[1])
        if special == "primask":
            if isinstance(value, Saved):
                state.mask = Mask(value.mask.all, state.mask.basepri)
            elif isinstance(value, int):
                state.mask = Mask(bool(value & 1), state.mask.basepri)
            else:
                state.mask = Mask(False, state.mask.basepri)
        elif special in ("basepri", "basepri_max"):
            if isinstance(value, Saved):
                level = value.mask.basepri
            elif isinstance(value, int):
                level = value & 0xFF
            else:
                level = NO_BASEPRI
            if special == "basepri_max" and state.mask.basepri != NO_BASEPRI and (
                    level == NO_BASEPRI or level >= state.mask.basepri):
                level = state.mask.basepri   # BASEPRI_MAX only raises (B5.2.3)
            elif special == "basepri_max" and not isinstance(value, (int, Saved)):
                level = state.mask.basepri
            state.mask = Mask(state.mask.all, level)
        return found, None, None
    # -- calls -----------------------------------------------------------------------------
    if base in ("bl", "blx"):
        after, clobbered = on_call(insn.address, state.mask, _args(regs, ARM_ARGS), False)
        for reg in (ARM_CALLER_SAVED if clobbered is None else clobbered | {"lr"}):
            regs.pop(reg, None)
        if after is not None:
            state.mask = after
        return found, None, None
    flow, _targets = _arm_flow(insn, func)
    if base in ("cbz", "cbnz"):
        return found, _decided(base, ops, regs), None
    if flow == "end" and base in ("b", "bx") and not (ops and ops[0] == "lr"):
        after, _ = on_call(insn.address, state.mask, _args(regs, ARM_ARGS), True)
        return found, "tail", after
    # -- memory --------------------------------------------------------------------------
    width = _arm_width(base, ops)
    if width is not None:
        _arm_memory(memory, insn, base, ops, width, state, found)
        # A load into PC: LDR PC, [SP], #4 or LDM SP!, {.., PC} returns; a jump table
        # (LDR PC, [PC, Rm]) was made a table in _blocks.
        into_pc = (ops and ops[0] == "pc") if base.startswith("ldr") else (
            "pc" in _reglist(ops))
        return found, ("return" if into_pc and "sp" in insn.text else None), None
    if base.startswith(("push", "pop", "stmdb", "vpush", "vpop")) or (ops and ops[0] in (
            "sp", "r7", "sp!")):
        _drop_slots(regs, "sp")
        if ops and ops[0] == "r7":
            _drop_slots(regs, "r7")
    if base.startswith("pop"):
        for reg in _reglist(ops):
            regs.pop(reg, None)
        return found, ("return" if "pc" in _reglist(ops) else None), None
    if flow == "end":
        return found, "return", None
    _arm_value(insn, base, ops, regs)
    return found, None, None


def _args(regs: dict[str, object], names: tuple[str, ...]) -> dict[str, int]:
    return {r: v for r in names if isinstance(v := regs.get(r), int)}


_FRAME_BASES = ("sp", "r7", "s0", "fp")


def _drop_slots(regs: dict[str, object], base: str | None = None) -> None:
    """Forget stack slots (all, or those addressed from `base`)."""
    for key in [k for k in regs if k.startswith("[") and (base is None or
                                                          k[1:].split(",")[0] == base)]:
        del regs[key]


def _arm_memory(memory: MemoryMap, insn: _Insn, base: str, ops: tuple[str, ...],
                width: tuple[int, int], state: _State, found: list[Access]) -> None:
    regs = state.regs
    size, parts = width
    atomic = base.startswith(("ldrex", "strex", "ldaex", "stlex"))
    load = base.startswith(("ldr", "ldm", "vldr", "vldm", "ldaex"))
    mem = _MEM.search(insn.text)
    address: int | None = None
    indexed = False
    if base.startswith(("ldm", "stm", "vldm", "vstm")):
        rb = ops[0].rstrip("!")
        start = regs.get(rb)
        if isinstance(start, int):
            address = start - size if base.endswith("db") else start
        if ops[0].endswith("!"):
            regs[rb] = (start + (size if not base.endswith("db") else -size)) \
                if isinstance(start, int) else None
            if regs[rb] is None:
                regs.pop(rb)
        if rb != "sp":
            found.append(Access(insn.address, "load" if load else "store", address, size,
                                parts, False, state.mask))
        if load:
            for reg in _reglist(ops):
                regs.pop(reg, None)
        return
    if mem is None:
        return
    rb, offset_text, writeback = mem.group(1), mem.group(2), mem.group(3)
    literal = rb == "pc"
    start = regs.get(rb)
    post = None
    tail = insn.text[mem.end():].strip().lstrip(",").strip()
    if tail.startswith("#"):
        post = _int(tail)
    if (isinstance(start, int) and start != 0) or literal:
        # A base of 0 is a NULL pointer on a path a test skips (printchar(0, c)): the
        # walk does not follow conditions, so it is not taken as an address.
        pc = (insn.address + 4) & ~3
        origin = pc if literal else start
        if offset_text is None:
            address = origin
        elif offset_text.startswith("#"):
            address = (origin + (_int(offset_text) or 0)) & 0xFFFFFFFF
        else:
            address, indexed = origin, True
    dests = [ops[0]] if load else []
    if base in ("ldrd",):
        dests = list(ops[:2])
    if atomic and not load:
        dests = [ops[0]]     # STREX writes its status register
    for reg in dests:
        regs.pop(reg, None)
    if literal and load and address is not None:
        value = memory.word(address) if size == 4 else None
        if value is not None and base in ("ldr",):
            regs[ops[0]] = value
        return
    if load and base == "ldr" and address is not None and not indexed and \
            memory.is_constant(address):
        value = memory.word(address)     # a pointer stored in read-only data
        if value is not None:
            regs[ops[0]] = value
    if writeback or post is not None:
        if isinstance(start, int):
            delta = post if post is not None else (_int(offset_text or "#0") or 0)
            regs[rb] = (start + delta) & 0xFFFFFFFF
        else:
            regs.pop(rb, None)
    if rb in _FRAME_BASES and not indexed and offset_text is not None or rb in _FRAME_BASES \
            and offset_text is None:
        # -O0 keeps values in stack slots: [sp/r7, #n] is followed like a register.
        slot = f"[{rb},{_int(offset_text or '#0') or 0}]"
        if base in ("str", "ldr") and not (writeback or post is not None):
            if load and isinstance(regs.get(slot), (int, Saved)):
                regs[ops[0]] = regs[slot]
            elif not load:
                value = regs.get(ops[0])
                if isinstance(value, (int, Saved)):
                    regs[slot] = value
                else:
                    regs.pop(slot, None)
        else:
            _drop_slots(regs, rb)
    if rb == "sp" or (literal and not atomic):
        return
    found.append(Access(insn.address, "load" if load else "store", address, size, parts, atomic,
                        state.mask, indexed))


def _arm_value(insn: _Insn, base: str, ops: tuple[str, ...],
               regs: dict[str, object]) -> None:
    """What an ALU instruction leaves in its destination register."""
    if not ops or base.startswith(_ARM_NO_DEST):
        if base.startswith("strex"):
            regs.pop(ops[0], None)
        return
    dest = ops[0]
    value: int | None = None
    plain = base.rstrip("s") if base in ("movs", "adds", "subs") else base
    if plain in ("mov", "movw") and len(ops) == 2:
        if ops[1].startswith("#"):
            value = _int(ops[1])
        elif isinstance(regs.get(ops[1]), (int, Saved)):
            regs[dest] = regs[ops[1]]
            return
    elif plain == "movt" and len(ops) == 2 and isinstance(regs.get(dest), int):
        value = ((regs[dest] & 0xFFFF) | ((_int(ops[1]) or 0) << 16))
    elif plain in ("add", "addw", "sub", "subw") and ops[-1].startswith("#"):
        src = ops[1] if len(ops) == 3 else dest
        imm = _int(ops[-1]) or 0
        origin = ((insn.address + 4) & ~3) if src == "pc" else regs.get(src)
        if isinstance(origin, int):
            value = origin + imm if plain.startswith("add") else origin - imm
    elif plain == "adr" and len(ops) == 2:
        value = ((insn.address + 4) & ~3) + (_int(ops[1]) or 0)
    elif plain in ("umull", "smull", "umlal", "smlal", "vmov"):
        for reg in ops[:2]:
            regs.pop(reg, None)
        return
    if value is None:
        regs.pop(dest, None)
    else:
        regs[dest] = value & 0xFFFFFFFF


# -- RISC-V ----------------------------------------------------------------------------------

_RV_LOADS = {"lw": 4, "lh": 2, "lhu": 2, "lb": 1, "lbu": 1, "c.lw": 4, "flw": 4, "c.flw": 4,
             "fld": 8, "c.fld": 8}
_RV_STORES = {"sw": 4, "sh": 2, "sb": 1, "c.sw": 4, "fsw": 4, "c.fsw": 4, "fsd": 8, "c.fsd": 8}
_MIE = 0x8          # mstatus.MIE (privileged spec 3.1.6.1)
_MSTATUS = ("mstatus", "0x300", "768")


def _rv_step(memory: MemoryMap, insn: _Insn, state: _State, on_call: CallHook,
             func: Function):
    regs = state.regs
    mnem, ops = insn.mnem, insn.ops
    plain = mnem.removeprefix("c.")
    found: list[Access] = []
    if plain.startswith("csr"):
        _rv_csr(plain, ops, state)
        return found, None, None
    if plain in ("jal", "jalr") and not (ops and ops[0] == "zero"):
        after, clobbered = on_call(insn.address, state.mask, _args(regs, RV_ARGS), False)
        for reg in (RV_CALLER_SAVED if clobbered is None else clobbered | {"ra"}):
            regs.pop(reg, None)
        if after is not None:
            state.mask = after
        return found, None, None
    flow, _ = _rv_flow(insn, func)
    if flow == "end":
        if plain in ("ret", "mret", "sret") or (plain in ("jr", "jalr") and ops and "ra" in ops[-1]):
            return found, "return", None
        after, _ = on_call(insn.address, state.mask, _args(regs, RV_ARGS), True)
        return found, "tail", after
    if flow in ("cond", "branch"):
        return found, _decided(plain, ops, regs), None
    if mnem in _RV_LOADS or mnem in _RV_STORES:
        load = mnem in _RV_LOADS
        size = _RV_LOADS.get(mnem) or _RV_STORES[mnem]
        mem = _RVMEM.match(ops[-1]) if ops else None
        address = None
        if mem is not None:
            origin = regs.get(mem.group(2))
            if isinstance(origin, int) and origin != 0:   # 0: a NULL pointer (see ARM)
                address = (origin + (_int(mem.group(1) or "0") or 0)) & 0xFFFFFFFF
        if load and not mnem.startswith(("f", "c.f")):
            regs.pop(ops[0], None)
        if mem is not None and mem.group(2) in _FRAME_BASES and size == 4:
            slot = f"[{mem.group(2)},{_int(mem.group(1) or '0') or 0}]"
            if load and isinstance(regs.get(slot), (int, Saved)) and not mnem.startswith(
                    ("f", "c.f")):
                regs[ops[0]] = regs[slot]
            elif not load:
                value = regs.get(ops[0])
                if isinstance(value, (int, Saved)):
                    regs[slot] = value
                else:
                    regs.pop(slot, None)
        if mem is not None and mem.group(2) != "sp":
            found.append(Access(insn.address, "load" if load else "store", address, size,
                                2 if size == 8 else 1, False, state.mask))
        return found, None, None
    if plain.startswith(("amo", "lr.", "sc.")):
        rb = ops[-1].strip("()") if ops else ""
        origin = regs.get(rb)
        address = origin if isinstance(origin, int) else None
        kind: AccessKind = "load" if plain.startswith("lr.") else "store"
        found.append(Access(insn.address, kind, address, 4, 1, True, state.mask))
        if ops:
            regs.pop(ops[0], None)
        return found, None, None
    _rv_value(insn, plain, ops, regs)
    return found, None, None


def _decided(plain: str, ops: tuple[str, ...], regs: dict[str, object]) -> str | None:
    """"always"/"never" for a branch on a saved MIE (or PRIMASK) bit, whose value the
    saved mask gives: `if (saved & MIE) csrsi mstatus, MIE` restores only what was set,
    and the path that would set it is not taken when it was clear. None: either way."""
    if plain in ("beqz", "bnez", "cbz", "cbnz") and ops:
        zero_taken = plain in ("beqz", "cbz")
    elif plain in ("beq", "bne") and len(ops) == 3 and ops[1] == "zero":
        zero_taken = plain == "beq"
    else:
        return None
    saved = regs.get(ops[0])
    if not isinstance(saved, Saved) or saved.register not in ("mstatus-mie", "primask"):
        return None
    # mstatus.MIE is 1 when interrupts were enabled; PRIMASK is 1 when they were masked.
    bit_set = (not saved.mask.all) if saved.register == "mstatus-mie" else saved.mask.all
    return ("never" if bit_set else "always") if zero_taken else (
        "always" if bit_set else "never")


def _rv_csr(plain: str, ops: tuple[str, ...], state: _State) -> None:
    """CSR instructions on mstatus: MIE set, cleared, saved, restored."""
    regs = state.regs
    if plain in ("csrr",) and len(ops) == 2:
        regs[ops[0]] = Saved("mstatus", state.mask) if ops[1] in _MSTATUS else None
        if regs[ops[0]] is None:
            regs.pop(ops[0])
        return
    # Forms: csrX csr, rs / csrXi csr, imm / csrrX rd, csr, rs / csrrXi rd, csr, imm
    if plain.startswith("csrr") and len(ops) == 3:
        rd, csr, src = ops
        op = plain[4:]
    elif len(ops) == 2:
        rd, (csr, src) = None, ops
        op = plain[3:]
    else:
        return
    if csr not in _MSTATUS:
        if rd:
            regs.pop(rd, None)
        return
    old = state.mask
    immediate = op.endswith("i")
    op = op.rstrip("i") if op not in ("wi",) else "w"
    value = _int(src) if immediate else regs.get(src)
    if op == "w":
        if isinstance(value, Saved):
            state.mask = value.mask
        elif isinstance(value, int):
            state.mask = UNMASKED if value & _MIE else MASKED
        else:
            state.mask = UNMASKED
    elif op == "s":
        if isinstance(value, Saved):
            if not value.mask.all:
                state.mask = UNMASKED     # restores MIE when it was set at the save
        elif not isinstance(value, int) or value & _MIE:
            state.mask = UNMASKED
    elif op == "c" and isinstance(value, int) and value & _MIE:
        state.mask = MASKED
    if rd and rd != "zero":
        regs[rd] = Saved("mstatus", old)


def _rv_value(insn: _Insn, plain: str, ops: tuple[str, ...], regs: dict[str, object]) -> None:
    if not ops or insn.mnem.startswith(_RV_NO_DEST) and insn.mnem not in ("sub", "sll", "slli",
                                                                           "srl", "srli", "sra",
                                                                           "srai", "slt", "sltu",
                                                                           "slti", "sltiu",
                                                                           "c.sub", "c.slli",
                                                                           "c.srli", "c.srai",
                                                                           "sh1add", "sh2add"):
        return
    dest = ops[0]
    if dest == "zero":
        return
    if dest in ("sp", "s0", "fp"):
        _drop_slots(regs, dest)
        if dest == "s0":
            _drop_slots(regs, "fp")
        if dest == "fp":
            _drop_slots(regs, "s0")
    value: int | None = None
    if plain == "lui" and len(ops) == 2:
        imm = _int(ops[1])
        value = None if imm is None else imm << 12
    elif plain == "auipc" and len(ops) == 2:
        imm = _int(ops[1])
        if imm is not None:
            imm = imm - (1 << 20) if imm >= 1 << 19 else imm
            value = insn.address + (imm << 12)
    elif plain == "li" and len(ops) == 2:
        value = _int(ops[1])
    elif plain == "mv" and len(ops) == 2:
        src = regs.get(ops[1])
        if isinstance(src, (int, Saved)):
            regs[dest] = src
            return
    elif plain in ("addi", "addi16sp", "addi4spn"):
        src = regs.get(ops[1] if len(ops) == 3 else dest)
        imm = _int(ops[-1])
        if isinstance(src, int) and imm is not None:
            value = src + imm
    elif plain == "andi" and isinstance(regs.get(ops[-2] if len(ops) == 3 else dest), Saved) \
            and _int(ops[-1]) == _MIE:
        saved = regs[ops[-2] if len(ops) == 3 else dest]
        # Keeping MIE of a saved mstatus: still the saved state, now just its MIE bit.
        regs[dest] = Saved("mstatus-mie", saved.mask) if isinstance(saved, Saved) else saved
        return
    if value is None:
        regs.pop(dest, None)
    else:
        regs[dest] = value & 0xFFFFFFFF
