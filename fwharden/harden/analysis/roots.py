"""Find the interrupt roots: which code the hardware can enter in interrupt context.

ARM (ARM DDI 0403E B1.5.3): the vector table is a list of words, word 0 the initial SP,
word 1 the reset handler (thread context), then exception and IRQ handlers with the Thumb
bit set. It is found from the `.isr_vector`/`.vectors` section, a known table symbol, the
board's boot address, or by the rule that word 1 is the ELF entry point.

RISC-V (privileged spec 3.1.7): the entry code writes mtvec. Mode 0 (direct): one trap
entry. Mode 1 (CLINT vectored): a table of jump instructions at the base, entry n for
cause n. Mode 3 (ECLIC/CLIC): a trap entry for exceptions and non-vectored interrupts, and
mtvt (CSR 0x307) pointing at a table of handler addresses. The writes are found by
decoding the entry point and the functions it calls; a table of handler addresses that the
trap entry dispatches through (fwharden's `fwh_interrupt_table`) adds its entries as roots.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Literal

from fwharden.board_profiles import Profile
from fwharden.harden.elf.image import Function, Image
from fwharden.harden.isa.rv32 import CAPSTONE_RV, CsrWrite, decode_riscv

ARM_TABLE_SYMBOLS = ("fwh_vector_table", "g_pfnVectors", "__isr_vector", "__Vectors",
                     "__vector_table", "_vector_table", "vector_table", "__vectors", "_vectors")
RISCV_TABLE_SYMBOLS = ("fwh_interrupt_table", "vector_base", "__vector_table", "_vector_table")
# Trap entries known by name, for start-up code that sets mtvec out of the decoder's sight:
# TinyGo's handleInterruptASM (src/device/riscv/handleinterrupt.S) calls the Go
# runtime's handleInterrupt, which dispatches to the interrupt.New handlers.
RISCV_TRAP_SYMBOLS = ("fwh_trap_entry", "handleInterruptASM", "trap_entry", "_trap_handler")
ARM_SYSTEM_NAMES = {2: "NMI", 3: "HardFault", 4: "MemManage", 5: "BusFault", 6: "UsageFault",
                    11: "SVCall", 12: "DebugMonitor", 14: "PendSV", 15: "SysTick"}


# "handler": in a vector table; "trap-entry": the RISC-V mtvec target; "dispatched": called
# by the trap entry through a table; "thread": the reset entry (thread context).
RootKind = Literal["handler", "trap-entry", "dispatched", "thread"]
TableKind = Literal["arm", "riscv-direct", "riscv-vectored", "riscv-clic", "riscv-mixed"]


@dataclass(frozen=True)
class Root:
    """A function the hardware enters in interrupt context (or, for `thread`, at reset)."""

    function: Function
    vectors: tuple[int, ...]     # table indices that point here (-1: the RISC-V trap entry)
    kind: RootKind

    @property
    def name(self) -> str:
        return self.function.name


@dataclass(frozen=True)
class VectorTable:
    """Where the roots came from, for the report."""

    kind: TableKind
    address: int
    entries: int
    source: str                  # how the table was found
    roots: tuple[Root, ...]
    thread: Root | None
    notes: tuple[str, ...] = ()  # words skipped, lengths accepted: said, never silent
    missing: bool = False        # no table/trap entry found: an error finding, not exit 2


# The irq_cycles wrappers of fwharden's generated Cortex-M vector table
# (linker/vectors.py timed_wrapper): `fwh_timed_<handler>` calls <handler>.
TIMED_PREFIX = "fwh_timed_"


def root_names(function: Function) -> tuple[str, ...]:
    """A root's names, plus the handler a timing wrapper stands for, so [harden] keys that
    name the handler (priorities, thread_context) still apply with irq_cycles on."""
    wrapped = tuple(n[len(TIMED_PREFIX):] for n in function.names if n.startswith(TIMED_PREFIX))
    return (*function.names, *wrapped)


def find_roots(image: Image, profile: Profile | None,
               thread_context: tuple[str, ...] = ()) -> VectorTable:
    table = _arm_roots(image, profile) if image.family == "arm" else _riscv_roots(image, profile)
    if thread_context:
        kept = tuple(r for r in table.roots if not set(root_names(r.function)) & set(thread_context))
        table = dataclasses.replace(table, roots=kept)
    return table


# -- ARM ------------------------------------------------------------------------------------

# The most words a table can have: 16 system vectors + 496 external interrupts on ARMv7-M
# and ARMv8-M (DDI 0403E B1.5.2), 16 + 32 on ARMv6-M (DDI 0419 B1.5.2).
ARM_MAX_VECTORS = 16 + 496
ARM_TABLE_SECTIONS = (".isr_vector", ".vectors", ".vector_table", ".intvec", ".isr_vectors")


def _arm_table(image: Image, profile: Profile | None) -> tuple[int, int, str, tuple[str, ...]]:
    """(address, words, how found, notes). The length is the table's own: its section or
    symbol size, else where its words stop being code addresses or the next symbol starts."""
    for name in ARM_TABLE_SECTIONS:
        section = next((s for s in image.sections if s.name == name and s.data), None)
        if section is not None:
            return section.address, section.size // 4, f"section {name}", ()
    for name in ARM_TABLE_SYMBOLS:
        sym = next((d for d in image.data_symbols if d.name == name and d.size), None)
        if sym is not None:
            return sym.address, sym.size // 4, f"symbol {name}", ()
        address = image.symbols.get(name)
        if address is not None and _looks_like_table(image, address):
            # A size-0 label (pico-sdk's `__vectors` in .text): length from the data.
            return (address, _count_code_words(image, address), f"symbol {name} (no size)",
                    ("the table symbol has no size: its length is where the code addresses "
                     "end",))
    if profile is not None and _looks_like_table(image, profile.placement.boot_address):
        base = profile.placement.boot_address
        return (base, _count_code_words(image, base),
                f"boot address 0x{base:08x} of board {profile.name}", ())
    entry_words = (image.entry | 1,)
    for wanted in (entry_words, None):
        for section in image.sections:
            if section.writable or not section.data:
                continue
            # VTOR needs at least 128-byte alignment, so a table starts on such a boundary.
            for offset in range(0, section.size - 8, 128):
                base = section.address + offset
                if (image.word(base + 4) in wanted if wanted else _looks_like_table(image, base)):
                    how = "word 1 = entry point" if wanted else "word 1 = a reset handler"
                    return base, _count_code_words(image, base), how, ()
    return 0, 0, "none", ()


def _looks_like_table(image: Image, base: int) -> bool:
    """Word 0 an initial SP in RAM (not code), word 1 the Thumb address of a function's
    start, and words 2 and 3 (NMI, HardFault) zero or Thumb code addresses."""
    words = [image.word(base + 4 * i) for i in range(4)]
    if None in words:
        return False
    sp, reset = words[0], words[1]
    section = image.section_at(sp - 4) if sp else None
    if sp & 3 or (section is not None and section.executable) or not reset & 1:
        return False
    func = image.function_at(reset & ~1)
    if func is None or func.address != reset & ~1:
        return False
    return all(w == 0 or (w & 1 and image.function_at(w & ~1)) for w in words[2:])


def _count_code_words(image: Image, base: int) -> int:
    """Words from `base` while they are zero or Thumb code addresses, up to the next
    symbol (a function or data object starting inside the run ends the table) and the
    core's maximum."""
    following = [f.address for f in image.functions if f.address > base]
    following += [d.address for d in image.data_symbols if d.address > base]
    limit = min([base + 4 * ARM_MAX_VECTORS, *following])
    count = 2
    while base + 4 * count < limit:
        word = image.word(base + 4 * count)
        if word is None or (word != 0 and not (word & 1 and image.function_at(word & ~1))):
            break
        count += 1
    return count


def _arm_roots(image: Image, profile: Profile | None) -> VectorTable:
    base, count, source, found_notes = _arm_table(image, profile)
    notes = list(found_notes)
    if not count:
        return VectorTable("arm", 0, 0, "none", (), None, (
            "no vector table found (no table section or symbol, no table at the boot "
            "address, no word pointing at a reset handler)",), missing=True)
    if count > ARM_MAX_VECTORS:
        notes.append(f"the table is {count} words; only the first {ARM_MAX_VECTORS} can be "
                     "vectors on this core")
        count = ARM_MAX_VECTORS
    if profile is not None and count > profile.vector_count:
        notes.append(f"the table has {count} words, more than the {profile.vector_count} "
                     f"vectors of board {profile.name}; all are taken as roots")
    by_function: dict[int, list[int]] = {}
    thread = None
    for index in range(1, count):
        word = image.word(base + 4 * index)
        if not word:
            continue
        func = image.function_at(word & ~1) if word & 1 else None
        if func is None:
            # STM32F1 start-up files end the table with `BootRAM` (0xF108F85F); vendor
            # tables hold reserved words. Not a Thumb code address: no root.
            what = "an even address (not Thumb code)" if image.function_at(word) else \
                "not the address of any function"
            notes.append(f"vector {index} at 0x{base + 4 * index:08x} = 0x{word:08x} is {what}; "
                         "skipped")
            continue
        if index == 1:
            thread = Root(func, (1,), "thread")
            continue
        by_function.setdefault(func.address, []).append(index)
    roots = tuple(Root(image.function_at(address), tuple(indices), "handler")
                  for address, indices in sorted(by_function.items(), key=lambda kv: kv[1][0]))
    if thread is not None:
        # The reset handler's code is thread context even if a vector shares it.
        roots = tuple(r for r in roots if r.function.address != thread.function.address)
    return VectorTable("arm", base, count, source, roots, thread, tuple(notes))


# -- RISC-V ---------------------------------------------------------------------------------

def _csr_writes(image: Image, entry: Function) -> list[CsrWrite]:
    """mtvec/mtvt writes in the entry code and the functions it calls (up to six levels:
    start-up, main, and the set-up functions main calls)."""
    writes: list[CsrWrite] = []
    frontier, seen = [entry], {entry.address}
    for _level in range(7):
        following = []
        for func in frontier:
            decoded, csr = decode_riscv(image, func)
            writes.extend(csr)
            for site in decoded.calls:
                for target in site.targets:
                    callee = image.function_at(target)
                    if callee is not None and callee.address not in seen:
                        seen.add(callee.address)
                        following.append(callee)
        frontier = following
    return writes


def _riscv_roots(image: Image, profile: Profile | None) -> VectorTable:
    """Roots for every trap entry the start-up path installs (an application may switch
    mtvec later, so each constant written to it is a possible entry)."""
    entry = image.function_at(image.entry)
    if entry is None:
        return VectorTable("riscv-direct", 0, 0, "none", (), None, (
            f"the entry point 0x{image.entry:08x} is not inside any function, so the code "
            "that installs the trap entry cannot be read",), missing=True)
    thread = Root(entry, (), "thread")
    writes = _csr_writes(image, entry)
    mtvecs = list(dict.fromkeys(w.value for w in writes if w.csr == "mtvec"))
    mtvt = next((w.value for w in writes if w.csr == "mtvt"), None)
    if not mtvecs:
        named = next((image.function_named(n) for n in RISCV_TRAP_SYMBOLS
                      if image.function_named(n)), None)
        if named is not None:
            mtvecs = [named.address]
    if not mtvecs:
        return VectorTable("riscv-direct", 0, 0, "none", (), thread, (
            "the start-up code never writes a constant to mtvec, so the trap entry is "
            f"unknown; set mtvec in the code reached from the entry point ({entry.name})",),
            missing=True)
    tables = [_riscv_vectored(image, v & ~3, thread) if v & 3 == 1
              else _riscv_direct(image, profile, v, mtvt, thread) for v in mtvecs]
    # Vectored slots that jump into a trap entry which dispatches by mcause (fwharden's
    # runtime on the ESP32-C3, whose core has vectored mode only): the handlers of that
    # entry's dispatch table are roots as in direct mode.
    for table in [t for t in tables if t.kind == "riscv-vectored"]:
        for root in table.roots:
            if root.function.name in RISCV_TRAP_SYMBOLS:
                tables.append(_riscv_direct(image, profile, root.function.address, None, thread))
    notes = tuple(n for t in tables for n in t.notes)
    tables = [t for t in tables if not t.missing] or tables
    roots: dict[int, Root] = {}
    for table in tables:
        for root in table.roots:
            if root.function.address in roots:
                old = roots[root.function.address]
                root = Root(root.function, tuple(dict.fromkeys(old.vectors + root.vectors)),
                            old.kind)
            roots[root.function.address] = root
    first = tables[0]
    return VectorTable(first.kind if len(tables) == 1 else "riscv-mixed", first.address,
                       sum(t.entries for t in tables), "; ".join(t.source for t in tables),
                       tuple(roots.values()), thread, notes,
                       missing=all(t.missing for t in tables))


def _riscv_direct(image: Image, profile: Profile | None, mtvec: int, mtvt: int | None,
                  thread: Root) -> VectorTable:
    """Direct or CLIC mode: the trap entry, plus the handler table it dispatches through."""
    base, mode = mtvec & ~3, mtvec & 3
    trap = image.function_at(base)
    if trap is None:
        return VectorTable("riscv-direct", base, 0, f"mtvec = 0x{mtvec:08x}", (), thread, (
            f"mtvec = 0x{mtvec:08x} is not inside any function",), missing=True)
    roots = [Root(trap, (-1,), "trap-entry")]
    table = mtvt
    if table is None:
        sym = next((d for d in image.data_symbols if d.name in RISCV_TABLE_SYMBOLS and d.size),
                   None)
        table = sym.address if sym else None
    if table is None:
        return VectorTable("riscv-direct", base, 1, f"mtvec = 0x{mtvec:08x} (direct)",
                           tuple(roots), thread)
    sym = image.data_symbol_at(table)
    count = (sym.size // 4 if sym and sym.address == table and sym.size
             else table_length(image, table, lambda w: image.function_at(w) is not None))
    if profile is not None and count > profile.vector_count:
        count = max(profile.vector_count, _last_code_word(image, table, count) + 1)
    source = (f"mtvt = 0x{table:08x}" if mtvt is not None else
              f"mtvec = 0x{mtvec:08x}, dispatch table {sym.name if sym else hex(table)}")
    by_function: dict[int, list[int]] = {}
    notes = []
    for index in range(count):
        word = image.word(table + 4 * index)
        if not word:
            continue
        func = image.function_at(word)
        if func is None:
            # GD32VF103 (Nuclei) start-up files put instructions in the reserved first
            # ECLIC entries; tables hold reserved words. Not code: no root.
            notes.append(f"interrupt table entry {index} at 0x{table + 4 * index:08x} = "
                         f"0x{word:08x} is not the address of any function; skipped")
            continue
        by_function.setdefault(func.address, []).append(index)
    # Entries of mtvt can be entered by the hardware (vectored CLIC interrupts); entries of
    # a plain dispatch table are only called by the trap entry, whose bound includes them.
    entered = "handler" if mtvt is not None else "dispatched"
    for address, indices in sorted(by_function.items(), key=lambda kv: kv[1][0]):
        roots.append(Root(image.function_at(address), tuple(indices), entered))
    kind = "riscv-clic" if mode == 3 else "riscv-direct"
    return VectorTable(kind, table, count, source, tuple(roots), thread, tuple(notes))


def _riscv_vectored(image: Image, base: int, thread: Root) -> VectorTable:
    """CLINT vectored mode: entry n is a jump instruction to the handler for cause n."""
    by_function: dict[int, list[int]] = {}
    notes: list[str] = []
    count = 0
    for index in range(64):
        raw = image.read(base + 4 * index, 4)
        if raw is None:
            break
        insn = next(CAPSTONE_RV.disasm_lite(raw, base + 4 * index), None)
        if insn is None or insn[2] not in ("j", "jal", "c.j"):
            break
        ops = [o.strip() for o in insn[3].split(",")]
        if insn[2] == "jal" and len(ops) == 2 and ops[0] not in ("zero", "x0"):
            break
        count = index + 1
        target = (insn[0] + int(ops[-1], 0)) & 0xFFFFFFFF
        func = image.function_at(target)
        if func is None:
            notes.append(f"vectored mtvec entry {index} jumps to 0x{target:08x}, which is not "
                         "inside any function; skipped")
            continue
        by_function.setdefault(func.address, []).append(index)
        if insn[1] == 2:
            break  # a compressed jump: the table is not made of 4-byte slots
    if not count:
        return VectorTable("riscv-vectored", base, 0, f"mtvec = 0x{base | 1:08x} (vectored)",
                           (), thread, (f"mtvec = 0x{base | 1:08x} is vectored but holds no "
                                        "jump instructions",), missing=True)
    roots = tuple(Root(image.function_at(address), tuple(indices), "handler")
                  for address, indices in sorted(by_function.items(), key=lambda kv: kv[1][0]))
    return VectorTable("riscv-vectored", base, count, f"mtvec = 0x{base | 1:08x} (vectored)",
                       roots, thread, tuple(notes))


RUNTIME_VECTOR = -2   # Root.vectors of a handler installed at run time (analysis/installed.py)


def table_length(image: Image, base: int, is_code, limit: int = 4096) -> int:
    """Words of a table without a size: up to the next symbol, the end of the data, the
    limit, or 8 words in a row that are neither zero nor code (reserved words and the
    instructions GD32VF103 puts in the first ECLIC entries are skipped over)."""
    following = [f.address for f in image.functions if f.address > base]
    following += [d.address for d in image.data_symbols if d.address > base]
    end = min([base + 4 * limit, *following])
    count, bad = 0, 0
    while base + 4 * count < end and bad < 8:
        word = image.word(base + 4 * count)
        if word is None:
            break
        bad = 0 if word == 0 or is_code(word) else bad + 1
        count += 1
    return max(count - bad, 0)


def _last_code_word(image: Image, base: int, count: int) -> int:
    last = 0
    for index in range(count):
        word = image.word(base + 4 * index)
        if word and image.function_at(word) is not None:
            last = index
    return last


def vector_label(table: VectorTable, index: int) -> str:
    """'IRQ 3', 'SysTick', 'cause 7', 'trap entry' or 'run-time' for the report."""
    if index == RUNTIME_VECTOR:
        return "run-time"
    if index < 0:
        return "trap entry"
    if table.kind == "arm":
        return ARM_SYSTEM_NAMES.get(index, f"IRQ {index - 16}" if index >= 16 else f"{index}")
    return f"cause {index}"
