"""Thumb-2 (ARMv7-M / ARMv6-M) function decoder on capstone.

Implements the control-flow and stack rules of ARM DDI 0403E chapter A7 that the analysis
needs:
- BL / BLX imm are calls; B, B.W, B<cond>, CBZ/CBNZ whose target leaves the function are
  tail calls; inside it they are ordinary branches.
- BX LR, POP/LDM with PC, LDR PC,[SP],#4 and MOV PC,LR return; BLX Rm is an indirect call,
  BX Rm / MOV PC,Rm / LDR PC,[...] an indirect tail call, except TBB/TBH and
  LDR PC,[PC,Rm,LSL #2] which dispatch through a jump table inside the function.
- SP: PUSH/STMDB SP!, VPUSH/VSTMDB SP!, SUB SP,#imm, STR Rt,[SP,#-imm]! allocate;
  the matching POP, VPOP, ADD SP, LDR Rt,[SP],#imm release. SP set from a frame pointer
  (MOV R7,SP ... MOV SP,R7) is followed; any other write to SP makes the frame dynamic.
  STR Rt,[SP,#-imm] without write-back is stack use below SP: the frame holds it.
Literal pools and jump tables are skipped by the $d mapping symbols (ELF for the Arm
Architecture, 5.5.5); a TBB/TBH table without one is sized from its bounds check.
An instruction capstone cannot decode is reported, never skipped silently.
"""

from __future__ import annotations

import bisect
import dataclasses
import re

import capstone
from capstone import arm_const

from fwharden.harden.elf.image import Function, Image
from fwharden.harden.isa.listing import MAX_UNDECODABLE, Listing, undecodable_run
from fwharden.harden.isa.model import CallSite, Decoded
from fwharden.harden.isa.tables import read_only_table

_CS = capstone.Cs(capstone.CS_ARCH_ARM, capstone.CS_MODE_THUMB | capstone.CS_MODE_MCLASS)

_CONDS = ("eq", "ne", "cs", "hs", "cc", "lo", "mi", "pl", "vs", "vc", "hi", "ls", "ge", "lt",
          "gt", "le", "al")
_BRANCHES = {"b", "b.w", "b.n"} | {f"b{c}{w}" for c in _CONDS for w in ("", ".w", ".n")}
_UNCONDITIONAL = {"b", "b.w", "b.n", "bal", "bal.w", "bal.n"}
_CALL_CLOBBERED = ("r0", "r1", "r2", "r3", "ip", "r12", "lr")
_IMM = re.compile(r"#(-?0x[0-9a-f]+|-?\d+)")
_REGLIST = re.compile(r"\{([^}]*)\}")


def _imm(text: str) -> int | None:
    match = _IMM.search(text)
    return int(match.group(1), 0) if match else None


def _reglist_count(ops: str) -> tuple[int, int]:
    """(number of registers, bytes each) in a {..} list; ranges like d8-d15 expand."""
    match = _REGLIST.search(ops)
    if not match:
        return 0, 4
    count, width = 0, 4
    for item in match.group(1).split(","):
        item = item.strip()
        if not item:
            continue
        if item[0] == "d":
            width = 8
        if "-" in item:
            lo, hi = item.split("-")
            count += int(hi.strip()[1:]) - int(lo.strip()[1:]) + 1
        else:
            count += 1
    return count, width


_CONDITIONAL_BASES = ("bl", "blx", "bx", "pop", "vpop", "ldr", "ldrd", "ldm", "ldmia", "ldmfd",
                      "vldmia", "mov", "movw", "movt", "adr", "add", "addw", "sub", "subw", "str",
                      "strd", "push", "msr")


def _split_condition(base: str) -> tuple[str, bool]:
    """'bxeq' -> ('bx', True) inside an IT block; plain mnemonics are returned as they are."""
    if len(base) > 2 and base[-2:] in _CONDS and base[:-2] in _CONDITIONAL_BASES:
        return base[:-2], True
    return base, False


def _operands(ops: str) -> list[str]:
    return [part.strip() for part in ops.split(",")] if ops else []


# Instructions whose text the decoder needs: control flow, stack and PC writes, and the
# sources of constants. Everything else only matters when it overwrites a tracked register.
_INTERESTING = frozenset(getattr(arm_const, f"ARM_INS_{name}") for name in (
    "B", "BL", "BLX", "BX", "CBZ", "CBNZ", "TBB", "TBH", "PUSH", "POP", "STMDB", "LDM",
    "LDMDB", "VPUSH", "VPOP", "VSTMDB", "VLDMIA", "MOVW", "MOVT", "ADR", "UDF", "CMP"))
# Common instructions that matter only when they name SP or PC, or while a constant, table
# or frame pointer is being followed (then the main loop reads them in full).
_SOMETIMES = frozenset(getattr(arm_const, f"ARM_INS_{name}") for name in (
    "ADD", "ADDW", "SUB", "SUBW", "MOV", "LDR", "STR", "STRD", "LDRD", "STRB", "STRH", "MSR",
    "VSTR"))
# Capstone 5 gives MOVW the id of MOV; MOVW starts a MOVW/MOVT constant, so it is read.
_MOV = arm_const.ARM_INS_MOV


def _instructions(image: Image, func: Function, unknown: list[tuple[int, str]]):
    """(address, size, mnemonic, operands, listing, index) per instruction, data skipped;
    mnemonic and operands are None for instructions the decoder does not need to read."""
    out = []
    for lo, hi in image.code_spans(func):
        data = image.read(lo, hi - lo)
        if data is None:
            unknown.append((lo, "function bytes are not in a loaded section"))
            continue
        address = lo
        bad_start = bad_next = -1
        bad_raw = ""
        while address < hi:
            listing = Listing(_CS, data, address, offset=address - lo)
            skipped_table = False
            run_start = -1
            ids, addresses, sizes = listing.ids, listing.addresses, listing.sizes
            names_sp_or_pc = listing.names_sp_or_pc
            for index, iid in enumerate(ids):
                if not (iid in _INTERESTING or iid < 0 or (
                        iid in _SOMETIMES and (names_sp_or_pc(index) or (
                            iid == _MOV and listing.mnemonic(index) == "movw")))):
                    if run_start < 0:
                        run_start = index
                    continue
                if run_start >= 0:
                    out.append(_run(listing, run_start, index))
                    run_start = -1
                mnem = listing.mnemonic(index)
                out.append((addresses[index], sizes[index], mnem, listing.operands(index),
                            listing, index))
                address = addresses[index] + sizes[index]
                if mnem in ("tbb", "tbh") and not image.data_ranges(address, address + 2):
                    past = _skip_table(out, mnem, address, hi)
                    if past != address:
                        address, skipped_table = past, True
                        break
            if run_start >= 0:
                out.append(_run(listing, run_start, listing.count))
            if listing.count and not skipped_table:
                address = max(address, listing.end)
            if skipped_table:
                continue
            if address < hi:
                if not _is_padding(data, address - lo):
                    raw = data[address - lo:address - lo + 4].hex()
                    if address == bad_next:  # the run of undecodable halfwords goes on
                        bad_next = address + 2
                        unknown[-1] = undecodable_run(bad_start, bad_next, bad_raw, hi)
                        if bad_next - bad_start >= MAX_UNDECODABLE:
                            break
                    else:
                        bad_start, bad_next, bad_raw = address, address + 2, raw
                        unknown.append((address, f"undecodable bytes {raw}"))
                address += 2
    return out


def _run(listing: Listing, first: int, stop: int):
    """Consecutive instructions the decoder need not read, as one entry."""
    end = listing.addresses[stop - 1] + listing.sizes[stop - 1]
    start = listing.addresses[first]
    return (start, end - start, None, range(first, stop), listing, first)


def _is_padding(data: bytes, offset: int) -> bool:
    return data[offset:offset + 2] in (b"\x00\x00", b"")


def _skip_table(out, mnem: str, address: int, hi: int) -> int:
    """Past an unmarked TBB/TBH table: entries = bound of the preceding CMP + 1."""
    bound = None
    for prev in reversed(out[-6:-1]):
        if prev[2] in ("cmp", "cmp.w"):
            bound = _imm(prev[3])
            break
    if bound is None:
        return address  # decode on; an unknown entry will be reported
    size = (bound + 1) * (1 if mnem == "tbb" else 2)
    return min(hi, address + size + (size & 1))


def decode_arm(image: Image, func: Function) -> Decoded:
    unknown: list[tuple[int, str]] = []
    insns = _instructions(image, func, unknown)
    return _ThumbWalk(image, func, insns, unknown).run()


class _ThumbWalk:
    """One linear pass over a function's instructions, with the state it carries: stack
    depth, frame pointers, constants, tables and literal values per register, calls found.

    One method per instruction group (ARM DDI 0403E chapter A7): `_stack` (PUSH/POP,
    STMDB/LDM SP!, VPUSH/VPOP, ADD/SUB SP, STR/STRD [SP,#-n]!, MOV/LDR/MSR to SP),
    `_control` (B/BL/BLX/BX/CBZ/TBB, POP/LDM/LDR/MOV into PC), `_constants` (literal
    loads, MOVW/MOVT, ADR, table loads), and `_run` for the stretches of ALU and memory
    instructions that touch neither SP nor PC.
    """

    def __init__(self, image: Image, func: Function, insns: list,
                 unknown: list[tuple[int, str]]) -> None:
        self.image, self.func, self.insns, self.unknown = image, func, insns, unknown
        self.start, self.end = func.address, func.end
        self.targets_inside: set[int] = set()
        for _addr, _size, mnem, ops, _listing, _index in insns:
            if mnem in _BRANCHES or mnem in ("cbz", "cbnz"):
                target = _imm(ops)
                if target is not None and self.start <= target < self.end:
                    self.targets_inside.add(target)
        self.target_list = sorted(self.targets_inside)
        self.literal_regs: dict[str, int | None] = {}  # loaded from the literal pool: the word
        self.switches: list[tuple[int, int | None]] = []
        self.switched = 1 << 32          # address where SP moves to another stack, if it does
        self.calls: list[CallSite] = []
        self.depth = 0
        self.frame = 0
        self.dynamic_note = ""
        self.depth_at: dict[int, int] = {}
        self.frame_pointers: dict[str, int] = {}
        self.consts: dict[str, int] = {}
        # Values a register may hold besides consts[reg]: a constant loaded under an IT
        # condition joins the value it had, never replaces it (the other path keeps the old).
        self.joined: dict[str, tuple[int, ...]] = {}
        self.tables: dict[str, int] = {}
        self.last_cmp: dict[str, int] = {}   # register -> the immediate of its last CMP
        self.after_terminator = False

    def kill(self, reg: str) -> None:
        self.consts.pop(reg, None)
        self.tables.pop(reg, None)
        self.joined.pop(reg, None)

    def run(self) -> Decoded:
        for address, size, mnem, ops, listing, _index in self.insns:
            self._step(address, size, mnem, ops, listing)
        calls = self.calls
        fall = _fall_through(self.image, self.func, self.insns)
        if fall is not None:
            # Code that runs off its end into the next symbol (asm labels splitting one
            # routine: pico-sdk's _reset_handler -> ... -> platform_entry) continues there.
            calls.append(CallSite(fall, "tail", (self.end,), self.depth, "falls through"))
        calls = [dataclasses.replace(site, other_stack=True) if site.site > self.switched
                 else site for site in calls]
        count = sum(len(e[3]) if e[2] is None else 1 for e in self.insns)
        return Decoded(function=self.func, calls=tuple(calls), frame=max(self.frame, 0),
                       frame_dynamic=bool(self.dynamic_note), frame_note=self.dynamic_note,
                       unknown=tuple(self.unknown), instructions=count,
                       switches=tuple(self.switches))

    def _step(self, address: int, size: int, mnem: str | None, ops, listing: Listing) -> None:
        if address in self.targets_inside or self.after_terminator:
            self.consts.clear()
            self.tables.clear()
        if self.after_terminator:
            self.depth = self.depth_at.get(address, self.frame)
            self.after_terminator = False
        elif address in self.depth_at:
            self.depth = max(self.depth, self.depth_at[address])
        if mnem is None:
            self._run(address, size, ops, listing)
            return
        operands = _operands(ops)
        dest = operands[0] if operands else ""
        base, conditional = _split_condition(mnem.split(".")[0])
        self._stack(address, mnem, ops, operands, dest, base, conditional)
        if self._control(address, mnem, ops, operands, dest, base, conditional):
            return
        self._constants(address, ops, operands, dest, base, conditional)

    def _run(self, address: int, size: int, run: range, listing: Listing) -> None:
        """A run of ALU and memory instructions that cannot write SP or PC. It matters only
        while a constant, table or frame pointer is followed, or where a branch lands
        inside it; otherwise it is skipped whole."""
        if self.consts or self.tables or self.frame_pointers:
            self.depth = _walk_run(self.image, listing, run, self.targets_inside,
                                   self.depth_at, self.depth, self.consts, self.tables,
                                   self.frame_pointers, self.kill)
            return
        # Nothing followed: only branches landing inside the run can matter.
        low = bisect.bisect_left(self.target_list, address + 1)
        high = bisect.bisect_left(self.target_list, address + size)
        for target in self.target_list[low:high]:
            if target in self.depth_at:
                self.depth = max(self.depth, self.depth_at[target])

    def _stack(self, address: int, mnem: str, ops: str, operands: list[str], dest: str,
               base: str, conditional: bool) -> None:
        """Every way SP moves: allocation, release, frame pointers, stack switches."""
        # -- stack pointer ------------------------------------------------------------
        before = self.depth
        if base in ("push", "vpush") or (base in ("stmdb", "stmfd", "vstmdb") and dest == "sp!"):
            count, width = _reglist_count(ops)
            self.depth += count * width
        elif base in ("pop", "vpop") or (base in ("ldm", "ldmia", "ldmfd", "vldmia") and dest == "sp!"):
            count, width = _reglist_count(ops)
            self.depth -= count * width
        elif dest == "sp" and base in ("sub", "subw", "add", "addw"):
            amount = _imm(ops)
            regs = [op for op in operands[1:] if not op.startswith("#")]
            if amount is not None and all(r == "sp" for r in regs):
                self.depth += amount if base.startswith("sub") else -amount
            elif len(regs) >= 1 and regs[0] in self.frame_pointers and amount is not None:
                # SUB SP, R7, #imm: back to a known distance below the self.frame pointer.
                self.depth = self.frame_pointers[regs[0]] + (amount if base.startswith("sub") else -amount)
            else:
                self.dynamic_note = self.dynamic_note or f"SP adjusted by a register at 0x{address:08x}"
        elif dest == "sp" and base == "ldr" and len(operands) >= 2 and operands[1].startswith("[pc"):
            # `ldr sp, =_estack`: a new stack, nothing on it yet
            self.depth, self.switched = 0, min(self.switched, address)
            self.switches.append((address, self.image.word(((address + 4) & ~3) + (_imm(operands[-1]) or 0))))
        elif dest == "sp" and base == "mov" and len(operands) == 2:
            if operands[1] in self.frame_pointers:
                self.depth = self.frame_pointers[operands[1]]
            elif operands[1] in self.literal_regs:
                # `ldr r12, =fault_stack_top; mov sp, r12`: onto another stack
                self.depth, self.switched = 0, min(self.switched, address)
                self.switches.append((address, self.literal_regs[operands[1]]))
            else:
                self.dynamic_note = self.dynamic_note or f"SP set from {operands[1]} at 0x{address:08x}"
        elif base == "msr" and dest == "msp":
            # MSR MSP, Rn in handler mode moves the current SP (ARM DDI 0403E B1.4.1): an
            # exception handler switching to its own stack. From an self.unknown register the
            # stack is self.unknown, so the self.frame is only a minimum.
            source = operands[1] if len(operands) > 1 else ""
            if source in self.literal_regs:
                self.depth, self.switched = 0, min(self.switched, address)
                self.switches.append((address, self.literal_regs[source]))
            else:
                self.dynamic_note = self.dynamic_note or f"MSP set from {source} at 0x{address:08x}"
        elif base in ("str", "strd", "strb", "strh") and "[sp, #-" in ops and ops.endswith("]!"):
            # STR/STRD Rt, [SP, #-n]! (pre-indexed with write-back, A7.7.158/A7.7.163)
            self.depth += -(_imm(ops.split("[", 1)[1]) or 0)
        elif (base in ("ldr", "ldrd") and "[sp]" in operands and operands[-1].startswith("#")
              and dest != "sp"):
            self.depth -= _imm(operands[-1]) or 0
        elif base in ("str", "strd", "strb", "strh", "vstr") and "[sp, #-" in ops:
            # STR Rt, [SP, #-n] without write-back (T4, A7.7.158): the word lies n bytes
            # below SP without SP moving (hand-written entry code parks a register there).
            # Counted in the frame: an interrupt stacking its frame here would overwrite it,
            # and the stack must hold it.
            self.frame = max(self.frame, self.depth - (_imm(ops.split("[", 1)[1]) or 0))
        elif dest == "sp" and base not in ("cmp", "tst", "str", "strd", "stm"):
            self.dynamic_note = self.dynamic_note or f"SP written by '{mnem} {ops}' at 0x{address:08x}"
        if conditional and self.depth < before:
            # A release inside an IT block (`popeq {r4, pc}`) happens on one path only; the
            # path that continues still holds the self.frame (ARM DDI 0403E A7.3.3).
            self.depth = before
        if base in ("mov", "add", "addw") and len(operands) >= 2 and operands[1] == "sp" and dest != "sp":
            # MOV Rd, SP / ADD Rd, SP, #imm: a self.frame pointer at `self.depth - imm` below entry SP.
            offset = 0 if base == "mov" else (_imm(ops) or 0)
            self.frame_pointers[dest] = self.depth - offset
        elif (dest in self.frame_pointers and base in ("add", "adds", "sub", "subs")
              and operands[-1].startswith("#") and operands[1:-1] in ([], [dest])):
            # ADDS R7, #8 in a -O0 epilogue: the self.frame pointer moves, it is still known.
            amount = _imm(operands[-1]) or 0
            self.frame_pointers[dest] -= amount if base.startswith("add") else -amount
        elif dest in self.frame_pointers and dest != "sp" and base not in ("str", "strd", "push", "cmp"):
            self.frame_pointers.pop(dest, None)
        self.frame = max(self.frame, self.depth)


    def _control(self, address: int, mnem: str, ops: str, operands: list[str], dest: str,
                 base: str, conditional: bool) -> bool:
        """Calls, branches, returns and every other write to PC; True when it was one."""
        # -- control flow -------------------------------------------------------------
        if base == "bl" or (base == "blx" and ops.startswith("#")):
            target = _imm(ops)
            self.calls.append(CallSite(address, "call", (target & ~1,) if target is not None else (),
                                  self.depth))
            for reg in _CALL_CLOBBERED:
                self.kill(reg)
            return True
        if base == "blx":
            self.calls.append(_joined(_indirect(self.image, address, "indirect", dest,
                                                self.consts, self.tables, self.depth),
                                      self.image, dest, self.joined))
            for reg in _CALL_CLOBBERED:
                self.kill(reg)
            return True
        if mnem in _BRANCHES or mnem in ("cbz", "cbnz"):
            target = _imm(operands[-1]) if mnem in ("cbz", "cbnz") else _imm(ops)
            if target is None:
                self.unknown.append((address, f"branch without a target: {mnem} {ops}"))
            elif self.start <= target < self.end:
                self.depth_at.setdefault(target, self.depth)
            else:
                self.calls.append(CallSite(address, "tail", (target,), self.depth))
            if mnem in _UNCONDITIONAL:
                self.after_terminator = True
            return True
        if base == "bx":
            if dest != "lr":
                self.calls.append(_joined(_indirect(self.image, address, "indirect-tail", dest, self.consts,
                                               self.tables, self.depth), self.image, dest, self.joined))
            self.after_terminator = not conditional
            return True
        if base in ("pop", "ldm", "ldmia", "ldmfd") and "pc" in ops:
            if base != "pop" and dest not in ("sp!", "sp"):
                # LDM Rn, {.., pc} from a register other than SP is a jump through memory.
                self.calls.append(CallSite(address, "indirect-tail", (), self.depth))
            self.after_terminator = not conditional
            return True
        if base in ("tbb", "tbh"):
            self.after_terminator = True
            return True
        if base == "ldr" and dest == "pc":
            _load_pc(self.image, address, operands, self.consts, self.last_cmp, self.start,
                     self.end, self.depth, self.depth_at, self.calls, self.unknown)
            self.after_terminator = not conditional
            return True
        if base == "mov" and dest == "pc":
            cases = _word_switch(self.image, self.tables.get(operands[1]), self.start, self.end)
            if cases:
                for target in cases:
                    self.depth_at.setdefault(target, self.depth)
            elif operands[1] != "lr":
                self.calls.append(_indirect(self.image, address, "indirect-tail", operands[1], self.consts,
                                       self.tables, self.depth))
            self.after_terminator = not conditional
            return True
        if base == "add" and dest == "pc" and not conditional:
            cases = _byte_switch(self.image, address, self.start, self.end)
            if cases:
                for target in cases:
                    self.depth_at.setdefault(target, self.depth)
                self.after_terminator = True
                return True
        if base in ("cmp", "cmp.w") and len(operands) == 2 and operands[1].startswith("#"):
            self.last_cmp[dest] = _imm(operands[1]) or 0
        if dest == "pc" or (base in ("ldm", "ldmia", "ldmdb", "ldmfd") and "pc" in ops):
            # Any other write to PC (ADD PC, Rm; a load into PC this decoder has no rule
            # for) is a transfer it cannot classify: reported, never a skipped edge.
            self.unknown.append((address, f"control transfer not classified: {mnem} {ops}"))
            self.after_terminator = not conditional
            return True
        if base in ("udf",):
            self.after_terminator = True
            return True
        return False

    def _constants(self, address: int, ops: str, operands: list[str], dest: str, base: str,
                   conditional: bool) -> None:
        """What the instruction leaves in its destination register."""
        if base == "ldr" and len(operands) >= 2 and operands[1].startswith("[pc"):
            self.literal_regs[dest] = self.image.word(((address + 4) & ~3) + (_imm(operands[-1]) or 0))
        elif not conditional:
            self.literal_regs.pop(dest, None)
        if conditional and dest:
            had = (self.consts[dest], *self.joined.get(dest, ())) if dest in self.consts else None
            _track_constants(self.image, address, base, operands, ops, self.consts, self.tables,
                             self.kill)
            now = self.consts.get(dest)
            self.kill(dest)
            if had is not None and now is not None:
                self.consts[dest] = had[0]
                self.joined[dest] = tuple(dict.fromkeys((*had[1:], now)))
            return
        _track_constants(self.image, address, base, operands, ops, self.consts, self.tables,
                             self.kill)



def _walk_run(image: Image, listing: Listing, run: range, targets_inside: set[int],
              depth_at: dict[int, int], depth: int, consts: dict[str, int],
              tables: dict[str, int], frame_pointers: dict[str, int], kill) -> int:
    """The slow path through a run: branch landings, frame-pointer moves, constants."""
    for index in run:  # noqa: B007 - the loop variable is used below
        address = listing.addresses[index]
        if address in targets_inside:
            consts.clear()
            tables.clear()
        if address in depth_at:
            depth = max(depth, depth_at[address])
        if listing.ids[index] not in _SOMETIMES:
            written = listing.destination(index)
            kill(written)
            frame_pointers.pop(written, None)
            continue
        mnem, ops = listing.mnemonic(index), listing.operands(index)
        base = mnem.split(".")[0]
        operands = _operands(ops)
        dest = operands[0] if operands else ""
        if (dest in frame_pointers and base in ("add", "adds", "sub", "subs")
                and operands[-1].startswith("#") and operands[1:-1] in ([], [dest])):
            amount = _imm(operands[-1]) or 0
            frame_pointers[dest] -= amount if base.startswith("add") else -amount
            continue
        if dest in frame_pointers and base not in ("str", "strd"):
            frame_pointers.pop(dest, None)
        _track_constants(image, address, base, operands, ops, consts, tables, kill)
    return depth


def _useful(image: Image, value: int) -> bool:
    """Only addresses of code or read-only data can resolve a branch: a RAM address
    (a global variable) is never followed, which keeps the fast path fast."""
    section = image.section_at(value & ~1)
    return section is not None and (section.executable or not section.writable)


def _track_constants(image: Image, address: int, base: str, operands: list[str], ops: str,
                     consts: dict[str, int], tables: dict[str, int], kill) -> None:
    """Follow values a register gets from the literal pool, MOVW/MOVT or a table load."""
    if not operands:
        return
    dest = operands[0]
    if base == "ldr" and len(operands) >= 2 and operands[1].startswith("[pc"):
        offset = _imm(operands[-1]) or 0
        literal = ((address + 4) & ~3) + offset
        value = image.word(literal)
        kill(dest)
        if value is not None and _useful(image, value):
            consts[dest] = value
        return
    if base in ("add", "addw") and len(operands) == 3 and operands[1] == "pc":
        # ADD Rd, PC, #imm is ADR: the address of a literal or a jump table.
        kill(dest)
        consts[dest] = ((address + 4) & ~3) + (_imm(operands[2]) or 0)
        return
    if base == "adr":
        kill(dest)
        consts[dest] = ((address + 4) & ~3) + (_imm(ops) or 0)
        return
    if base == "movw":
        kill(dest)
        value = _imm(ops)
        if value is not None:
            consts[dest] = value
        return
    if base == "movt":
        value = _imm(ops)
        full = None if dest not in consts or value is None else (
            (consts[dest] & 0xFFFF) | (value << 16))
        kill(dest)
        if full is not None and _useful(image, full):
            consts[dest] = full
        return
    if base == "mov" and len(operands) == 2 and operands[1] in consts:
        consts[dest] = consts[operands[1]]
        return
    if base == "ldr" and len(operands) >= 3 and operands[1].startswith("["):
        # LDR Rd, [Rb, Ri, LSL #2]: a load from a table at the address in Rb.
        table_base = operands[1].lstrip("[")
        known = consts.get(table_base)
        kill(dest)
        if known is not None:
            tables[dest] = known
        return
    if base == "ldr" and len(operands) == 2 and operands[1].startswith("["):
        inner = operands[1].strip("[]").split(",")[0].strip()
        value = None
        if inner in consts:
            pointer = consts[inner] + (_imm(operands[1]) or 0)
            section = image.section_at(pointer)
            if section is not None and not section.writable:
                value = image.word(pointer)
        kill(dest)
        if value is not None and _useful(image, value):
            consts[dest] = value
        return
    if base in ("str", "strb", "strh", "strd", "cmp", "cmn", "tst", "teq", "it", "ite", "itt",
                "itte", "ittt", "itee", "iteee", "nop", "dsb", "isb", "dmb", "cpsie", "cpsid",
                "svc", "bkpt", "wfi", "wfe", "msr", "vstr", "vpush", "push", "stm", "stmdb"):
        return
    kill(dest)


def _indirect(image: Image, address: int, kind: str, reg: str, consts: dict[str, int],
              tables: dict[str, int], depth: int) -> CallSite:
    """Resolve a branch through `reg` from a known constant or a read-only table."""
    if reg in consts:
        target = consts[reg] & ~1
        if image.function_at(target) is not None and image.function_at(target).address == target:
            return CallSite(address, kind, (target,), depth, "constant")
    if reg in tables:
        entries = read_only_table(image, tables[reg])
        if entries:
            sym = image.data_symbol_at(tables[reg])
            label = sym.name if sym else f"0x{tables[reg]:08x}"
            return CallSite(address, kind, entries, depth, f"table {label}")
    return CallSite(address, kind, (), depth)


def _joined(site: CallSite, image: Image, reg: str, joined: dict[str, tuple[int, ...]]) -> CallSite:
    """Add the values a register got under an IT condition; any of them not a function's
    start leaves the site unresolved (a finding), never a partial answer."""
    if reg not in joined or not site.targets:
        return site
    extra = []
    for value in joined[reg]:
        func = image.function_at(value & ~1)
        if func is None or func.address != value & ~1:
            return dataclasses.replace(site, targets=(), how="")
        extra.append(func.address)
    return dataclasses.replace(site, targets=tuple(dict.fromkeys((*site.targets, *extra))),
                               how="constant (IT block: several)")


def _load_pc(image: Image, address: int, operands: list[str], consts: dict[str, int],
             last_cmp: dict[str, int], start: int, end: int, depth: int,
             depth_at: dict[int, int], calls: list[CallSite],
             unknown: list[tuple[int, str]]) -> None:
    """LDR PC, ...: a return, a jump to a literal (a long-branch veneer), a dispatch table,
    or a jump through memory (ARM DDI 0403E A7.7.43/A7.7.44)."""
    if len(operands) == 3 and operands[1] == "[sp]" and operands[2].startswith("#"):
        return  # LDR PC, [SP], #4: a return
    inner = [op.strip("[]! ") for op in operands[1:]]
    base = inner[0]
    pc_value = (address + 4) & ~3
    if base == "pc" and (len(inner) == 1 or inner[1].startswith("#")):
        # `ldr pc, [pc, #imm]` / `ldr pc, =sym`: GNU ld's long-branch veneer (`__x_veneer`
        # between ITCM/RAM and flash) and hand-written asm jumps: a jump to a constant.
        value = image.word(pc_value + (_imm(inner[1]) or 0 if len(inner) > 1 else 0))
        if value is None:
            unknown.append((address, "jump to a literal outside the loaded image"))
        elif start <= value & ~1 < end:
            depth_at.setdefault(value & ~1, depth)
        else:
            calls.append(CallSite(address, "tail", (value & ~1,), depth, "literal"))
        return
    if len(inner) >= 2 and not inner[1].startswith("#"):
        # LDR PC, [Rn, Rm, LSL #2]: a table of addresses at Rn (ADR, or PC itself), indexed
        # by Rm; its length is the bound of the last CMP on Rm.
        table = pc_value if base == "pc" else consts.get(base)
        bound = last_cmp.get(inner[1])
        if table is not None and bound is not None:
            words = [image.word(table + 4 * i) for i in range(bound + 1)]
            if all(w is not None for w in words):
                outside = []
                for word in words:
                    target = word & ~1
                    if start <= target < end:
                        depth_at.setdefault(target, depth)
                    else:
                        outside.append(target)
                if outside:
                    calls.append(CallSite(address, "tail", tuple(dict.fromkeys(outside)), depth,
                                          f"dispatch table 0x{table:08x}"))
                return
    calls.append(CallSite(address, "indirect-tail", (), depth))


def _word_switch(image: Image, table: int | None, start: int, end: int) -> tuple[int, ...]:
    """The cases of an ARMv6-M switch through a table of addresses inside the function:
    LLVM's lowering without TBB (`lsls ri, #2; adr rb, table; ldr rx, [rb, ri]; mov pc,
    rx`). The table has no symbol and no length, so it is read while its words are Thumb
    addresses inside the function: a real entry always is (a case of this function), so
    nothing is cut short, and a literal after the table that happens to look like one only
    adds a path. Only a table in flash counts (RAM can change at run time)."""
    section = None if table is None else image.section_at(table)
    if section is None or section.writable or not start <= table < end:
        return ()
    cases = []
    for address in range(table, end - 3, 4):
        word = image.word(address)
        if word is None or not word & 1 or not start <= word & ~1 < end:
            break
        cases.append(word & ~1)
    return tuple(dict.fromkeys(cases))


def _byte_switch(image: Image, address: int, start: int, end: int) -> tuple[int, ...]:
    """The cases of LLVM's TBB/TBH lowering for ARMv6-M, which has neither (ARMAsmPrinter,
    tTBB_JT/tTBH_JT), ending at the `add pc, rx` at `address`, in either of its forms:

        cmp ri, #n ; b<cond> ... ; [lsls ri, ri, #1 (TBH)] ; [nop]
        add rx, pc      ; ldrb/ldrh rx, [rx, #k]  ; lsls rx, rx, #1 ; add pc, rx   (ri = rx)
        adr rb, table   ; ldrb/ldrh rx, [rb, ri]  ; lsls rx, rx, #1 ; add pc, rx

    Entry i is the byte (halfword) at table + i (2i): the table is `add rx, pc`'s PC (its
    address + 4, ARM DDI 0419E A6.7.3) + k, or ADR's Align(PC, 4) + imm; the case is
    `add pc`'s PC + 2 * entry. The entries have no end marker, so the count comes from the
    bounds check just before (`cmp ri, #n`: entries 0..n), searched only across branches,
    nops and the TBH shift; without it, () and the write to PC stays unclassified."""
    code = image.read(address - 6, 8)
    if code is None or address - 6 < start:
        return ()
    first, load, shift, add_pc = (int.from_bytes(code[i:i + 2], "little") for i in (0, 2, 4, 6))
    rx = (add_pc >> 3) & 0xF
    if add_pc & 0xFF87 != 0x4487 or rx > 7 or shift != 0x0040 | rx << 3 | rx:
        return ()
    if load & 0xF83F in (0x7800 | rx << 3 | rx, 0x8800 | rx << 3 | rx) and first == 0x4478 | rx:
        size = 1 if load & 0xF000 == 0x7000 else 2
        table, index = address - 2 + ((load >> 6) & 0x1F) * size, rx
    elif load & 0xFE07 in (0x5C00 | rx, 0x5A00 | rx) and first & 0xF800 == 0xA000 and (
            first >> 8) & 7 == (load >> 3) & 7:
        size = 1 if load & 0xFE00 == 0x5C00 else 2
        table, index = ((address - 2) & ~3) + (first & 0xFF) * 4, (load >> 6) & 7
    else:
        return ()
    bound = None
    for back in range(address - 8, max(start, address - 20) - 2, -2):
        half = int.from_bytes(image.read(back, 2) or b"\xff\xff", "little")
        if half == 0x2800 | index << 8 | (half & 0xFF):
            bound = half & 0xFF
            break
        branch = 0xD000 <= half < 0xDE00 or 0xE000 <= half < 0xE800  # B<cond>, B (T1, T2)
        if not (branch or half in (0x46C0, 0xBF00, 0x0040 | index << 3 | index)):
            return ()
    if bound is None:
        return ()
    data = image.read(table, (bound + 1) * size)
    if data is None:
        return ()
    cases = [address + 4 + 2 * int.from_bytes(data[i:i + size], "little")
             for i in range(0, len(data), size)]
    if not all(start <= case < end for case in cases):
        return ()
    return tuple(dict.fromkeys(cases))


def _is_nop(mnem: str, ops: str) -> bool:
    """NOP, NOP.W, and `mov r8, r8` (0x46C0, the ARMv6-M padding GCC emits before a
    literal pool)."""
    return mnem.startswith("nop") or (mnem == "mov" and ops.replace(" ", "") == "r8,r8")


def _fall_through(image: Image, func: Function, insns) -> int | None:
    """The address of the last instruction when execution can run past the function's end
    into a function that starts there; None when the last instruction ends the flow. A call
    as the last instruction is taken as a call that does not return (GCC ends functions
    with `bl abort`), nop padding after a terminator as padding. BKPT stops the core (no
    debugger: a HardFault, DDI 0403E C1.7), so it ends the flow too."""
    following = image.function_at(func.end)
    if following is None or following.address != func.end:
        return None
    for address, _size, mnem, ops, listing, _index in reversed(insns):
        if mnem is None:
            if all(_is_nop(listing.mnemonic(i), listing.operands(i)) for i in ops):
                continue
            return address
        if _is_nop(mnem, ops):
            continue
        base, conditional = _split_condition(mnem.split(".")[0])
        operands = _operands(ops)
        dest = operands[0] if operands else ""
        if conditional:
            return address
        if mnem in _UNCONDITIONAL or base in ("bl", "blx", "bx", "tbb", "tbh", "udf", "bkpt") or (
                dest == "pc") or (base in ("pop", "ldm", "ldmia", "ldmfd") and "pc" in ops):
            return None
        return address
    return None
