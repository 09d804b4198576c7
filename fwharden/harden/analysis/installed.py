"""Roots that exist only at run time: vector tables moved by VTOR, vectors stored into a RAM
table, trap entries and CLIC tables written to mtvec/mtvt after start-up.

The link-time table is not what runs once the code moves it: pico-sdk's flash table holds
`__unhandled_user_irq` for every IRQ and `irq_set_exclusive_handler` stores the real handler
into the RAM copy; CMSIS `NVIC_SetVector` does the same; a RISC-V program may write mtvec
from a function argument. isa/installs.py finds the writes; this module follows each value
back to a constant, through the callers when it is an argument, and makes every handler so
installed a root. A value it cannot follow is returned as a problem (an error finding):
never silence.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from fwharden.harden.analysis.callgraph import CallGraph
from fwharden.harden.analysis.roots import table_length
from fwharden.harden.elf.image import Function, Image
from fwharden.harden.isa.installs import Install, Scan, may_install, refers_to, scan
from fwharden.harden.isa.rv32 import decode_riscv
from fwharden.harden.isa.thumb import decode_arm

MAX_VECTORS = 16 + 496   # ARMv7-M/ARMv8-M: the longest table a RAM copy can be

# pico-sdk's shared IRQ handlers (src/rp2_common/hardware_irq/irq.c, irq_handler_chain.S):
# irq_add_shared_handler(num, handler, order_priority) writes a trampoline slot into
# irq_handler_chain_slots (RAM) and stores the slot's address, taken from a free list, into
# the RAM vector table. The hardware enters the slot, which runs irq_handler_chain_first_slot
# (`push {r0, lr}`, RISC-V `cm.push {ra}, -16`) and calls each handler of the chain in turn.
# The stored value is not a constant and not code the ELF holds, so it is not followed: the
# handler argument is, and the handler is the root. irq_remove_handler stores only a slot
# of a chain already built, or __unhandled_user_irq: nothing new can be entered.
CHAIN_INSTALLERS = {"irq_add_shared_handler": (0, 1)}   # name -> (IRQ argument, handler argument)
CHAIN_MAINTAINERS = ("irq_remove_handler",)
CHAIN_ENTRY = "irq_handler_chain_first_slot"
CHAIN_ENTRY_END = "irq_handler_chain_remove_tail"
# What the chain entry holds on the stack while a handler runs, when the ELF does not let
# its code be read (irq_handler_chain.S: push {r0, lr} = 8 B; cm.push {ra}, -16 = 16 B).
CHAIN_FRAME = {"arm": 8, "riscv": 16}


@dataclass(frozen=True)
class Installed:
    """A handler the code installs, and how it was found."""

    function: Function
    how: str
    trap_entry: bool = False
    chained: bool = False      # entered through pico-sdk's shared-handler chain
    irq: int | None = None     # the IRQ number the code gives with it, when a constant


@dataclass(frozen=True)
class Problem:
    site: int
    function: str
    message: str


@dataclass(frozen=True)
class RunTime:
    roots: tuple[Installed, ...]
    problems: tuple[Problem, ...]
    notes: tuple[str, ...]


def runtime_roots(image: Image, graph: CallGraph, boot_entries: int = MAX_VECTORS) -> RunTime:
    """Every handler installed by the image's code. boot_entries: the link-time table's
    length, the length of a RAM copy that has no sized symbol of its own."""
    scans: dict[int, Scan] = graph.scans   # kept on the graph: verify calls this in rounds

    def scanned(address: int) -> Scan:
        if address not in scans:
            scans[address] = scan(image, graph.function(address))
        return scans[address]

    resolved: list[tuple[Install, str]] = []     # (install with a constant, where)
    problems: list[Problem] = []
    notes: list[str] = []
    # (function, install kind, argument number): the value comes from that argument.
    pending: list[tuple[int, str, int, int]] = []
    # Every function of the image, not only those the graph reached: start-up code calls
    # its initialisers through pointer arrays (pico-sdk's runtime_init walks
    # __preinit_array), so code that installs a vector is often not reachable by direct
    # calls. The byte test keeps this cheap.
    for name, (_irq, handler) in CHAIN_INSTALLERS.items():
        func = image.function_named(name)
        if func is not None:
            pending.append((func.address, "chained", handler, func.address))
    for func in image.functions:
        if not may_install(image, func):
            continue
        for install in scanned(func.address).installs:
            _classify(graph, func.address, install.site, install.what, install.value,
                      resolved, pending, problems)
    callers: dict[int, list[int]] = {}
    built: list[bool] = []

    def callers_of(function: int) -> list[int]:
        if not built:
            # Built once, only when a value arrives as an argument: every function's calls.
            built.append(True)
            for func in image.functions:
                for site in graph.decode(func).calls:
                    for target in site.targets:
                        callers.setdefault(target, []).append(func.address)
        return sorted(set(callers.get(function, [])))

    done: set[tuple[int, str, int]] = set()

    def follow_arguments() -> None:
        while pending:
            function, what, arg, _site = pending.pop()
            if (function, what, arg) in done:
                continue
            done.add((function, what, arg))
            for caller in callers_of(function):
                for call in scanned(caller).calls:
                    if call.target != function:
                        continue
                    value = call.args[arg] if arg < len(call.args) else None
                    _classify(graph, caller, call.site, what, value, resolved, pending,
                              problems)

    follow_arguments()
    # Stores of handlers into a RAM table the code points VTOR at.
    ram_tables = [inst.value[1] for inst, _ in resolved if inst.what == "vtor"
                  and _writable(image, inst.value[1])]
    for table in ram_tables:
        notes.append(f"the vector table is moved at run time to RAM at 0x{table:08x}: its "
                     "roots are the vectors the code stores there, plus the link-time table "
                     "it is copied from")
        sym = image.data_symbol_at(table)
        words = sym.size // 4 if sym is not None and sym.address == table and sym.size else (
            boot_entries or MAX_VECTORS)
        for address in [f.address for f in image.functions
                        if may_install(image, f) or refers_to(image, f, table)]:
            for store in scanned(address).stores:
                if table <= store.address < table + 4 * words:
                    _classify(graph, address, store.site, "vector", store.value, resolved,
                              pending, problems)
    follow_arguments()
    roots: dict[int, Installed] = {}
    for install, where in resolved:
        target = install.value[1] & ~1 if image.family == "arm" else install.value[1]
        if (install.what in ("vector", "chained") and image.function_at(target) is None
                and _writable(image, target) and image.section_at(target) is not None):
            # A vector into RAM that holds no function: code written there at run time (a
            # trampoline), which the ELF does not have; what it runs is unknown.
            caller = image.function_at(install.site)
            problems.append(Problem(install.site, caller.name if caller else where,
                                    f"a vector is installed at run time pointing into RAM at "
                                    f"0x{install.value[1]:08x}, where no function of the ELF "
                                    "is: code written at run time the verifier cannot read"))
            continue
        for found in _handlers(image, install, where, notes):
            if found.chained:
                found = dataclasses.replace(found, irq=_chain_irq(image, scanned, install))
            roots.setdefault(found.function.address, found)
    kept = [p for p in problems if p.function not in (*CHAIN_INSTALLERS, *CHAIN_MAINTAINERS)]
    for name in sorted({p.function for p in problems} - {p.function for p in kept}):
        notes.append(f"{name}: its vector-table store is pico-sdk's shared-handler chain slot "
                     "(irq_handler_chain_slots), not followed; the handlers given to "
                     "irq_add_shared_handler are the roots")
    return RunTime(tuple(roots.values()), tuple(kept), tuple(notes))


def _chain_irq(image: Image, scanned, install: Install) -> int | None:
    """The IRQ number at the call that added a handler to a chain, when a constant."""
    caller = image.function_at(install.site)
    if caller is None:
        return None
    irq_arg = CHAIN_INSTALLERS["irq_add_shared_handler"][0]
    for call in scanned(caller.address).calls:
        if call.site == install.site and irq_arg < len(call.args):
            value = call.args[irq_arg]
            return value[1] if value is not None and value[0] == "const" else None
    return None


def chain_frame(image: Image) -> int:
    """Bytes pico-sdk's chain entry holds below every handler of a shared chain: its code
    decoded when the ELF has it (a label in .data), else the figure of irq_handler_chain.S."""
    start = image.symbols.get(CHAIN_ENTRY)
    end = image.symbols.get(CHAIN_ENTRY_END)
    if start is not None and end is not None and 0 < (end & ~1) - (start & ~1) <= 64:
        lo = start & ~1
        entry = Function(lo, (end & ~1) - lo, (CHAIN_ENTRY,), thumb=image.family == "arm")
        # Decoded apart from the call graph: the label is in .data, no function of it.
        decoded = (decode_arm(image, entry) if image.family == "arm"
                   else decode_riscv(image, entry)[0])
        if not decoded.unknown and decoded.frame:
            return decoded.frame
    return CHAIN_FRAME.get(image.family, 16)


def _classify(graph: CallGraph, function: int, site: int, what: str, value, resolved,
              pending, problems) -> None:
    name = graph.function(function).name
    if value is not None and value[0] == "const":
        resolved.append((Install(site, what, value), f"{name} at 0x{site:08x}"))
    elif value is not None and value[0] == "arg":
        pending.append((function, what, value[1], site))
    else:
        problems.append(Problem(site, name, _MESSAGES[what]))


_MESSAGES = {
    "vtor": "vector table moved at run time to an address the verifier cannot follow",
    "vector": "a vector is installed at run time with a handler the verifier cannot follow",
    "chained": "a handler is added to a shared IRQ chain (irq_add_shared_handler) with a "
               "value the verifier cannot follow",
    "mtvec": "mtvec written at run time with a value the verifier cannot follow",
    "mtvt": "mtvt (vector table) moved at run time to an address the verifier cannot follow",
}


def _writable(image: Image, address: int) -> bool:
    section = image.section_at(address)
    return section is None or section.writable


def _handlers(image: Image, install: Install, where: str, notes: list[str]) -> list[Installed]:
    value = install.value[1]
    if install.what in ("vector", "chained"):
        func = image.function_at(value & ~1 if image.family == "arm" else value)
        if func is None:
            notes.append(f"{where} installs 0x{value:08x} as a vector: not code; skipped")
            return []
        if install.what == "chained":
            return [Installed(func, f"added to a shared IRQ chain by irq_add_shared_handler "
                                    f"from {where}", chained=True)]
        return [Installed(func, f"installed by {where}")]
    if install.what == "mtvec":
        func = image.function_at(value & ~3)
        if func is None:
            notes.append(f"{where} writes mtvec = 0x{value:08x}: not code; skipped")
            return []
        if value & 3 == 1:
            return _table(image, value & ~3, where, jumps=True, notes=notes)
        return [Installed(func, f"mtvec written by {where}", trap_entry=True)]
    if _writable(image, value):
        return []   # a RAM table: its entries come from the stores (see runtime_roots)
    # VTOR or mtvt pointing at a table in flash: its words, from the first handler on.
    return _table(image, value, where, jumps=False, notes=notes,
                  first=2 if install.what == "vtor" else 0)


def _table(image: Image, base: int, where: str, *, jumps: bool, notes: list[str],
           first: int = 0) -> list[Installed]:
    """Handlers of a table the code installs; its length as roots.table_length finds it
    (a CLINT vectored table ends at its first entry that is not a jump)."""
    def code(word: int) -> bool:
        target = word & ~1 if image.family == "arm" else word
        return image.function_at(target) is not None and (image.family != "arm" or word & 1)

    out = []
    count = MAX_VECTORS if jumps else table_length(image, base, code, MAX_VECTORS)
    for index in range(first, count):
        word = image.word(base + 4 * index)
        if word is None:
            break
        if jumps:
            word = _jal_target(base + 4 * index, word)
            if word is None:
                break
        if not word:
            continue
        if not code(word):
            notes.append(f"entry {index} of the table at 0x{base:08x} (installed by {where}) "
                         f"= 0x{word:08x} is not code; skipped")
            continue
        func = image.function_at(word & ~1 if image.family == "arm" else word)
        out.append(Installed(func, f"table at 0x{base:08x} installed by {where}"))
    return out


def _jal_target(address: int, word: int) -> int | None:
    """The target of a `jal x0, offset` (J-type, unprivileged spec 2.5.1), else None."""
    if word & 0x7F != 0x6F or (word >> 7) & 0x1F:
        return None
    imm = (((word >> 31) & 1) << 20) | (((word >> 12) & 0xFF) << 12) | \
        (((word >> 20) & 1) << 11) | (((word >> 21) & 0x3FF) << 1)
    if imm & (1 << 20):
        imm -= 1 << 21
    return (address + imm) & 0xFFFFFFFF
