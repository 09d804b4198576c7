"""RV32IMAC function decoder on capstone (RISC-V unprivileged spec 20191213, chapter 2.5
and chapter 16 "C" extension; privileged spec 1.12 for MRET and the CSRs).

- JAL / C.JAL with a link register are calls; JAL x0 / C.J leaving the function are tail
  calls, inside it branches; the same for conditional branches.
- JALR rd, rs1, imm: x0 <- ra with imm 0 is a return; AUIPC/LUI + ADDI constants are
  followed into rs1, so AUIPC+JALR call and tail pairs resolve to their target; a value
  loaded from a read-only table of function addresses resolves to the table's entries
  (a switch jump table inside the function is an ordinary branch); anything else is an
  indirect call (rd != x0) or indirect tail call (rd = x0).
- SP: ADDI / C.ADDI / C.ADDI16SP on sp allocate and release; sp restored from a frame
  pointer (ADDI s0, sp, imm ... ADDI sp, s0, -imm) is followed; CSRRW sp, mscratch, sp is
  the switch to the interrupt stack; any other write to sp makes the frame dynamic.
- A store below sp without moving it (`sw t0, -4(sp)`) is stack use: the frame holds it.
- CSRW mtvec / mtvt (0x307) with a known constant are recorded for the vector finder.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass

import capstone

from fwharden.harden.elf.image import Function, Image
from fwharden.harden.isa.listing import MAX_UNDECODABLE, Listing, undecodable_run
from fwharden.harden.isa.model import CallSite, Decoded
from fwharden.harden.isa.tables import read_only_table

CAPSTONE_RV = capstone.Cs(capstone.CS_ARCH_RISCV, capstone.CS_MODE_RISCV32 | capstone.CS_MODE_RISCVC)

_BRANCHES = {"beq", "bne", "blt", "bge", "bltu", "bgeu", "beqz", "bnez", "blez", "bgez",
             "bltz", "bgtz", "bgt", "ble", "bgtu", "bleu", "c.beqz", "c.bnez"}
_CALLER_SAVED = ("ra", "t0", "t1", "t2", "t3", "t4", "t5", "t6",
                 "a0", "a1", "a2", "a3", "a4", "a5", "a6", "a7")
_NO_DEST = {"sw", "sh", "sb", "c.sw", "c.swsp", "fsw", "c.fsw", "c.fswsp", "fence", "fence.i",
            "ecall", "ebreak", "c.ebreak", "wfi", "nop", "c.nop", "csrw", "csrs", "csrc",
            "csrwi", "csrsi", "csrci"}
_STORES = {"sw", "sh", "sb", "fsw", "fsd"}
_OFFSET = re.compile(r"^(-?(?:0x[0-9a-f]+|\d+))\((\w+)\)$")
# Capstone names mtvec but prints the CLIC's mtvt as a decimal CSR number (775).
_CSR_NAMES = {"mtvec": "mtvec", "0x305": "mtvec", "773": "mtvec",
              "mtvt": "mtvt", "0x307": "mtvt", "775": "mtvt"}


@dataclass(frozen=True)
class CsrWrite:
    """A constant written to mtvec or mtvt (how the vector finder locates the trap entry)."""

    site: int
    csr: str
    value: int


def _int(text: str) -> int | None:
    try:
        return int(text, 0)
    except ValueError:
        return None


def _operands(ops: str) -> list[str]:
    return [part.strip() for part in ops.split(",")] if ops else []


def decode_riscv(image: Image, func: Function) -> tuple[Decoded, tuple[CsrWrite, ...]]:
    unknown: list[tuple[int, str]] = []
    insns = _instructions(image, func, unknown)
    return _Rv32Walk(image, func, insns, unknown).run()


class _Rv32Walk:
    """One linear pass over a function's instructions, with the state it carries: stack
    depth, frame pointers, constants and table values per register, calls found.

    One method per instruction group: `_stack` (integer register-immediate instructions
    on sp, unprivileged spec 2.4; C.ADDI16SP/C.ADDI4SPN, chapter 16.5), `_control`
    (JAL/JALR/branches, 2.5; C.J/C.JR/C.JALR, 16.4), `_csr` (CSRRW/CSRRS on mtvec/mtvt,
    Zicsr chapter 9 and privileged spec 3.1.7) and `_constants` (LUI/AUIPC/ADDI/loads that
    give a register a known value).
    """

    def __init__(self, image: Image, func: Function, insns: list,
                 unknown: list[tuple[int, str]]) -> None:
        self.image, self.func, self.insns, self.unknown = image, func, insns, unknown
        self.start, self.end = func.address, func.end
        self.inside = set()
        for address, _size, mnem, ops in insns:
            if mnem in _BRANCHES or mnem in ("j", "c.j", "jal"):
                target = _branch_target(address, mnem, _operands(ops))
                if target is not None and self.start <= target < self.end:
                    self.inside.add(target)
        self.calls: list[CallSite] = []
        self.csr_writes: list[CsrWrite] = []
        self.depth = self.frame = 0
        self.note = ""
        self.depth_at: dict[int, int] = {}
        self.frame_pointers: dict[str, int] = {}
        self.consts: dict[str, int] = {"zero": 0}
        self.table_ptr: dict[str, int] = {}   # register = table base + index
        self.table_val: dict[str, int] = {}   # register = an entry loaded from the table
        self.table_rel: dict[str, int] = {}   # register = table base + an entry loaded from it
        self.after_terminator = False
        self.sp_constant = False  # sp is being loaded with an address (start-up), not adjusted
        self.switched = 1 << 32   # address where sp moves to another stack, if it does
        self.switches: dict[int, int | None] = {}  # site of each move -> the new sp, if known
        self.switch_site = 0
        self.mscratch_swap = False

    def kill(self, reg: str) -> None:
        if reg != "zero":
            self.consts.pop(reg, None)
        self.table_ptr.pop(reg, None)
        self.table_val.pop(reg, None)
        self.table_rel.pop(reg, None)
        self.frame_pointers.pop(reg, None)

    def run(self) -> tuple[Decoded, tuple[CsrWrite, ...]]:
        for address, _size, mnem, ops in self.insns:
            self._step(address, mnem, ops)
        calls = self.calls
        fall = _fall_through(self.image, self.func, self.insns)
        if fall is not None:
            # Runs off its end into the next symbol (asm labels inside one routine): an edge.
            calls.append(CallSite(fall, "tail", (self.end,), self.depth, "falls through"))
        calls = [dataclasses.replace(site, other_stack=True) if site.site > self.switched
                 else site for site in calls]
        decoded = Decoded(function=self.func, calls=tuple(calls), frame=max(self.frame, 0),
                          frame_dynamic=bool(self.note), frame_note=self.note,
                          unknown=tuple(self.unknown), instructions=len(self.insns),
                          switches=tuple(self.switches.items()),
                          mscratch_swap=self.mscratch_swap)
        return decoded, tuple(self.csr_writes)

    def _step(self, address: int, mnem: str, ops: str) -> None:
        if address in self.inside or self.after_terminator:
            # A branch lands here, or nothing falls through: what registers hold is unknown.
            self.consts.clear()
            self.consts["zero"] = 0
            self.table_ptr.clear()
            self.table_val.clear()
            self.table_rel.clear()
        if self.after_terminator:
            self.depth = self.depth_at.get(address, self.frame)
            self.after_terminator = False
        ops_list = _operands(ops)
        dest = ops_list[0] if ops_list else ""
        if mnem in _STORES and len(ops_list) == 2:
            below = _OFFSET.match(ops_list[1])
            if below and below.group(2) == "sp" and int(below.group(1), 0) < 0:
                # `sw t0, -4(sp)` without lowering sp (a trap entry parking a register):
                # the bytes below sp are in use, so the frame holds them.
                self.frame = max(self.frame, self.depth - int(below.group(1), 0))
        self._stack(address, mnem, ops, ops_list, dest)
        self.frame = max(self.frame, self.depth)
        if self._control(address, mnem, ops_list, dest) or self._csr(address, mnem, ops_list,
                                                                      dest):
            return
        _track(self.image, address, mnem, ops_list, self.consts, self.table_ptr,
               self.table_val, self.table_rel, self.kill)
        if dest == "sp" and self.sp_constant:
            self.switches[self.switch_site] = self.consts.get("sp")

    def _stack(self, address: int, mnem: str, ops: str, ops_list: list[str],
               dest: str) -> None:
        """Writes to sp: allocation, release, frame-pointer restores, stack switches."""
        if dest == "sp" and mnem in ("auipc", "lui", "c.lui", "li", "c.li"):
            # `la sp, __stack_top`: a new stack, nothing on it yet
            self.sp_constant, self.depth = True, 0
            self.switched = min(self.switched, address)
            self.switch_site = address
        elif dest == "sp" and self.sp_constant and mnem in ("addi", "mv") and ops_list[1] == "sp":
            pass  # second half of `la sp, symbol` (`addi sp, sp, 0` prints as `mv sp, sp`)
        elif dest == "sp" and mnem == "addi" and ops_list[1] == "gp":
            # `la sp` relaxed against gp
            self.depth, self.switched = 0, min(self.switched, address)
            gp = self.image.symbols.get("__global_pointer$")
            self.switches[address] = None if gp is None else (
                gp + (_int(ops_list[2]) or 0)) & 0xFFFFFFFF
        elif dest == "sp":
            self.sp_constant = False
            if mnem in ("addi", "c.addi16sp", "c.addi") and \
                    ops_list[-2 if mnem == "addi" else 0] == "sp":
                self.depth -= _int(ops_list[-1]) or 0
            elif mnem == "addi" and ops_list[1] in self.frame_pointers:
                self.depth = self.frame_pointers[ops_list[1]] - (_int(ops_list[2]) or 0)
            elif mnem in ("mv", "c.mv") and ops_list[1] in self.frame_pointers:
                self.depth = self.frame_pointers[ops_list[1]]
            elif (mnem == "csrrw" and ops_list[1:] == ["mscratch", "sp"]) or (
                    mnem == "csrr" and ops_list[1:] == ["mscratch"]):
                # Swap to/from the interrupt stack (privileged spec 3.1.16): the code
                # after the swap in is counted on it, from the trap frame on; the restore
                # before MRET goes back to the interrupted sp.
                self.mscratch_swap = self.mscratch_swap or mnem == "csrrw"
            elif mnem not in ("sw", "c.swsp", "sh", "sb"):
                self.note = self.note or f"sp written by '{mnem} {ops}' at 0x{address:08x}"
        elif mnem in ("addi", "mv", "c.mv", "c.addi4spn") and len(ops_list) >= 2 and \
                ops_list[1] == "sp":
            offset = _int(ops_list[2]) if len(ops_list) > 2 else 0
            self.frame_pointers[dest] = self.depth - (offset or 0)

    def _control(self, address: int, mnem: str, ops_list: list[str], dest: str) -> bool:
        """Calls, tail calls, branches and returns; True when the instruction was one."""
        if mnem in ("jal", "c.jal", "j", "c.j"):
            if mnem in ("j", "c.j"):
                link = "zero"
            else:
                link = dest if mnem == "jal" and len(ops_list) == 2 else "ra"
            target = _branch_target(address, mnem, ops_list)
            if link != "zero":
                self.calls.append(CallSite(address, "call", (target,) if target is not None
                                           else (), self.depth))
                for reg in _CALLER_SAVED:
                    self.kill(reg)
            else:
                if target is not None and not self.start <= target < self.end:
                    self.calls.append(CallSite(address, "tail", (target,), self.depth))
                elif target is not None:
                    self.depth_at.setdefault(target, self.depth)
                self.after_terminator = True
            return True
        if mnem in _BRANCHES:
            target = _branch_target(address, mnem, ops_list)
            if target is not None and not self.start <= target < self.end:
                self.calls.append(CallSite(address, "tail", (target,), self.depth))
            elif target is not None:
                self.depth_at.setdefault(target, self.depth)
            return True
        if mnem in ("jalr", "jr", "ret", "c.jr", "c.jalr"):
            site = _jalr(self.image, self.func, address, mnem, ops_list, self.consts,
                         self.table_val, self.table_rel, self.depth)
            if site is not None:
                self.calls.append(site)
            if mnem in ("jalr", "c.jalr") and _link_of(mnem, ops_list) != "zero":
                for reg in _CALLER_SAVED:
                    self.kill(reg)
            else:
                self.after_terminator = True
            return True
        if mnem in ("mret", "sret", "uret", "unimp", "c.unimp"):
            self.after_terminator = True
            return True
        return False

    def _csr(self, address: int, mnem: str, ops_list: list[str], dest: str) -> bool:
        """A constant written to mtvec/mtvt: where the vector finder looks for the roots."""
        if mnem not in ("csrw", "csrrw") or len(ops_list) < 2:
            return False
        csr, src = (ops_list[0], ops_list[1]) if mnem == "csrw" else (ops_list[1], ops_list[2])
        if csr in _CSR_NAMES and src in self.consts:
            self.csr_writes.append(CsrWrite(address, _CSR_NAMES[csr], self.consts[src]))
        if mnem == "csrrw":
            self.kill(dest)
        return True


def _instructions(image: Image, func: Function, unknown: list[tuple[int, str]]):
    data = image.read(func.address, func.size)
    if data is None:
        unknown.append((func.address, "function bytes are not in a loaded section"))
        return []
    out = []
    address, end = func.address, func.end
    bad_start = bad_next = -1
    bad_raw = ""
    while address < end:
        # Listing reads the bytes in place: a slice of the rest per retry was quadratic.
        for insn in Listing(CAPSTONE_RV, data, address, offset=address - func.address).items():
            out.append(insn)
            address = insn[0] + insn[1]
        if address < end:
            raw = data[address - func.address:address - func.address + 4]
            if raw[:2] != b"\x00\x00":
                if address == bad_next:  # the run of undecodable halfwords goes on
                    bad_next = address + 2
                    unknown[-1] = undecodable_run(bad_start, bad_next, bad_raw, end)
                    if bad_next - bad_start >= MAX_UNDECODABLE:
                        break
                else:
                    bad_start, bad_next, bad_raw = address, address + 2, raw.hex()
                    unknown.append((address, f"undecodable bytes {raw.hex()}"))
            address += 2
    return out


def _branch_target(address: int, mnem: str, ops: list[str]) -> int | None:
    """Capstone prints RISC-V branch and jump immediates relative to the instruction."""
    if not ops:
        return None
    offset = _int(ops[-1])
    return None if offset is None else (address + offset) & 0xFFFFFFFF


def _link_of(mnem: str, ops: list[str]) -> str:
    if mnem == "c.jalr":
        return "ra"
    if mnem == "jalr" and len(ops) == 3:
        return ops[0]
    if mnem == "jalr" and len(ops) == 1:
        return "ra"
    return "zero"


def _jalr(image: Image, func: Function, address: int, mnem: str, ops: list[str],
          consts: dict[str, int], table_val: dict[str, int], table_rel: dict[str, int],
          depth: int) -> CallSite | None:
    """Classify JALR and its aliases; None for a return or a branch inside the function."""
    link = _link_of(mnem, ops)
    if mnem == "ret":
        return None
    if mnem == "jalr" and len(ops) == 3:
        base, offset = ops[1], _int(ops[2]) or 0
    elif mnem == "jalr" and len(ops) == 2 and _OFFSET.match(ops[1]):
        link = ops[0]
        match = _OFFSET.match(ops[1])
        offset, base = int(match.group(1), 0), match.group(2)
    else:
        base, offset = ops[0], 0
    if link == "zero" and base == "ra" and offset == 0:
        return None  # return
    if (link == "zero" and base == "t0" and offset == 0
            and func.name.startswith("OUTLINED_FUNCTION_")):
        # LLVM's RISC-V machine outliner calls an outlined body with `jal t0` and it
        # returns with `jr t0` (RISCVInstrInfo::buildOutlinedFrame): a return, not a call.
        return None
    calling = link != "zero"
    kind = "call" if calling else "tail"
    if base in consts:
        target = (consts[base] + offset) & 0xFFFFFFFF
        if func.address <= target < func.end and not calling:
            return None
        return CallSite(address, kind, (target,), depth)
    if base in table_rel and offset == 0 and not calling:
        table = table_rel[base]
        first = image.word(table)
        section = image.section_at(table)
        if (first is not None and section is not None and not section.writable
                and func.address <= (table + first) & 0xFFFFFFFF < func.end):
            return None  # switch through a table of offsets inside the function
    if base in table_val and offset == 0:
        table = table_val[base]
        jump_table = _jump_table(image, func, table)
        if jump_table and not calling:
            return None  # switch dispatch inside the function
        entries = read_only_table(image, table)
        if entries:
            sym = image.data_symbol_at(table)
            label = sym.name if sym else f"0x{table:08x}"
            return CallSite(address, "indirect" if calling else "indirect-tail", entries, depth,
                            f"table {label}")
    return CallSite(address, "indirect" if calling else "indirect-tail", (), depth)


def _jump_table(image: Image, func: Function, base: int) -> bool:
    """True if the words at `base` are addresses inside `func` (a switch jump table)."""
    first = image.word(base)
    section = image.section_at(base)
    return (first is not None and section is not None and not section.writable
            and func.address <= first < func.end)


def _track(image: Image, address: int, mnem: str, ops: list[str], consts: dict[str, int],
           table_ptr: dict[str, int], table_val: dict[str, int], table_rel: dict[str, int],
           kill) -> None:
    """Constant propagation for AUIPC/LUI/ADDI/LI/MV/ORI and table loads."""
    if not ops or mnem in _NO_DEST or mnem.startswith("b"):
        return
    dest = ops[0]
    value: int | None = None
    if mnem in ("lui", "c.lui") and len(ops) == 2:
        imm = _int(ops[1])
        value = None if imm is None else (imm << 12) & 0xFFFFFFFF
    elif mnem == "auipc" and len(ops) == 2:
        imm = _int(ops[1])
        if imm is not None:
            imm = imm - (1 << 20) if imm >= 1 << 19 else imm
            value = (address + (imm << 12)) & 0xFFFFFFFF
    elif mnem in ("li", "c.li") and len(ops) == 2:
        value = _int(ops[1])
    elif mnem == "addi" and len(ops) == 3 and ops[1] in consts:
        imm = _int(ops[2])
        value = None if imm is None else (consts[ops[1]] + imm) & 0xFFFFFFFF
    elif mnem == "c.addi" and len(ops) == 2 and dest in consts:
        imm = _int(ops[1])
        value = None if imm is None else (consts[dest] + imm) & 0xFFFFFFFF
    elif mnem == "ori" and len(ops) == 3 and ops[1] in consts:
        imm = _int(ops[2])
        value = None if imm is None else consts[ops[1]] | (imm & 0xFFFFFFFF)
    elif mnem in ("mv", "c.mv") and len(ops) == 2 and ops[1] in consts:
        value = consts[ops[1]]
    elif mnem in ("add", "c.add"):
        sources = ops[1:] if mnem == "add" else ops
        known = [consts[s] for s in sources if s in consts and s != "zero"]
        entry = next((table_val[s] for s in sources if s in table_val), None)
        kill(dest)  # after reading the sources: `add a5, a5, a4` reads a5 first
        if entry is not None and known == [entry]:
            # entry + table base: a position-independent jump table (offsets, not addresses)
            table_rel[dest] = entry
        elif len(known) == 1:
            table_ptr[dest] = known[0]
        return
    elif mnem in ("lw", "c.lw", "c.lwsp") and len(ops) == 2:
        match = _OFFSET.match(ops[1])
        loaded_from_table: int | None = None
        loaded: int | None = None
        if match:
            offset, base = int(match.group(1), 0), match.group(2)
            if base in table_ptr and offset == 0:
                loaded_from_table = table_ptr[base]
            elif base in consts:
                pointer = (consts[base] + offset) & 0xFFFFFFFF
                section = image.section_at(pointer)
                if section is not None and not section.writable:
                    loaded = image.word(pointer)
        kill(dest)
        if loaded_from_table is not None:
            table_val[dest] = loaded_from_table
        if loaded is not None:
            consts[dest] = loaded
        return
    kill(dest)
    if value is not None:
        consts[dest] = value


_ENDS_FLOW = {"j", "c.j", "jr", "c.jr", "ret", "mret", "sret", "uret", "unimp", "c.unimp",
              "jal", "c.jal", "jalr", "c.jalr", "tail", "call", "ebreak", "c.ebreak"}


def _fall_through(image: Image, func: Function, insns) -> int | None:
    """The last instruction's address when execution runs past the end into a function
    that starts there; a call as the last instruction is taken as one that does not return,
    nop padding is skipped."""
    following = image.function_at(func.end)
    if following is None or following.address != func.end:
        return None
    for address, _size, mnem, _ops in reversed(insns):
        if mnem in ("nop", "c.nop"):
            continue
        return None if mnem in _ENDS_FLOW else address
    return None
