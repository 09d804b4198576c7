"""fwharden's GDB commands: fwh-map, fwh-stacks, fwh-fault.

Copied beside the gdbinit (with fwharden's generated-file header) and loaded by it with
`source`, so it runs inside GDB's own Python, which has no fwharden and no venv: it imports
only the standard library and `gdb`, and reads the stack map layout of
fwharden/harden/faults/stackmap.py (version 1) itself. The fault record is decoded by
running `fwharden decode-fault --record` (the command the gdbinit configures), so GDB shows
exactly what the CLI shows; without it the raw fields are printed.
"""

from __future__ import annotations

import os
import struct
import subprocess
import tempfile

import gdb  # noqa: F401 - provided by GDB

SETTINGS = {"elf": "", "fwharden": []}

STACKMAP_MAGIC = 0x53485746   # "FWHS"
STACKMAP_VERSION = 1
HEADER = struct.Struct("<IHHII")
DESCRIPTOR = struct.Struct("<I8s9I")
UNBOUNDED = 0xFFFFFFFF
RECORD_MAGIC = 0x46574846
CYCLES_MAGIC = 0x43485746     # "FWHC": the irq_cycles trailer after the descriptors
CYCLES = struct.Struct("<IIII")
COUNTERS = ("none", "dwt", "mcycle")
VECTOR_TABLES = ("fwh_vector_table", "fwh_interrupt_table")


def fwh_configure(elf: str, fwharden: list[str]) -> None:
    """Called by the gdbinit: the ELF and the fwharden command for decode-fault."""
    SETTINGS["elf"] = elf
    SETTINGS["fwharden"] = list(fwharden)


def _address_of(symbol: str) -> int:
    try:
        return int(gdb.parse_and_eval(f"(unsigned int)&{symbol}"))
    except gdb.error:
        raise gdb.GdbError(f"fwharden: symbol {symbol} not found: is this a firmware built "
                           "with fwharden's linker script?") from None


def _read(address: int, size: int) -> bytes:
    return bytes(gdb.selected_inferior().read_memory(address, size))


def read_stackmap() -> tuple[int, int, int, list[tuple]]:
    """(address, pattern, flags, descriptors) of the stack map in the target's memory."""
    address = _address_of("__fwh_stackmap_start")
    magic, version, count, pattern, flags = HEADER.unpack(_read(address, HEADER.size))
    if magic != STACKMAP_MAGIC or version != STACKMAP_VERSION:
        raise gdb.GdbError(f"fwharden: no stack map at 0x{address:08x} (magic 0x{magic:08x}): "
                           "load firmware.elf, not firmware.unpatched.elf")
    body = _read(address + HEADER.size, count * DESCRIPTOR.size)
    return address, pattern, flags, [DESCRIPTOR.unpack_from(body, i * DESCRIPTOR.size)
                                     for i in range(count)]


def read_cycles(address: int, count: int) -> tuple[int, int, int] | None:
    """(counter word address, slots address, slot count) of an irq_cycles build."""
    magic, counter, slots, slot_count = CYCLES.unpack(
        _read(address + HEADER.size + count * DESCRIPTOR.size, CYCLES.size))
    return (counter, slots, slot_count) if magic == CYCLES_MAGIC else None


def _slot_handler(slot: int) -> str:
    """The function the vector table's entry `slot` points at (the timing wrapper's name
    without its prefix)."""
    for table in VECTOR_TABLES:
        try:
            base = int(gdb.parse_and_eval(f"(unsigned int)&{table}"))
        except gdb.error:
            continue
        word = struct.unpack("<I", _read(base + 4 * slot, 4))[0] & ~1
        # The symbol table's name (a DWARF block can be a function inlined there).
        found = gdb.execute(f"info symbol 0x{word:x}", to_string=True).split(" in section")
        if len(found) == 2 and " + " not in found[0]:
            return found[0].strip().removeprefix("fwh_timed_")
        return f"0x{word:08x}"
    return "?"


def write_cycles(address: int, count: int) -> None:
    """The per-handler maximum cycles of an irq_cycles build, after the stack table."""
    found = read_cycles(address, count)
    if found is None:
        return
    counter, slots, slot_count = found
    kind = struct.unpack("<I", _read(counter, 4))[0]
    name = COUNTERS[kind] if kind < len(COUNTERS) else f"unknown ({kind})"
    values = struct.unpack(f"<{slot_count}I", _read(slots, 4 * slot_count))
    ran = [(slot, value) for slot, value in enumerate(values) if value]
    if kind == 0:
        gdb.write("irq cycles: no cycle counter on this core (or QEMU): nothing timed\n")
        return
    gdb.write(f"irq cycles ({name}): {len(ran)} of {slot_count} slots ran\n")
    gdb.write(f"{'slot':>5} {'handler':<32} {'max cycles':>12}\n")
    for slot, value in ran:
        gdb.write(f"{slot:>5} {_slot_handler(slot):<32} {value:>12}\n")


def _bound(worst: int, flags: int, ident: int) -> str:
    if worst == UNBOUNDED:
        return "unbounded"
    return f"{worst} B " + ("(at least)" if flags & (1 << ident) else "(exact)")


def high_water(base: int, size: int, pattern: int) -> int:
    """Bytes used at the deepest point: from the top down to the lowest word that no
    longer holds the painted pattern (as fwh_stack_high_water in the runtime)."""
    data = _read(base, size)
    painted = struct.pack("<I", pattern)
    offset = 0
    while offset + 4 <= size and data[offset:offset + 4] == painted:
        offset += 4
    return size - offset


def _fault_recorded() -> bool:
    try:
        record = gdb.parse_and_eval("fwh_last_fault")
        return struct.unpack_from("<I", _read(int(record.address), 4))[0] == RECORD_MAGIC
    except gdb.error:
        return False


class FwhMap(gdb.Command):
    """fwh-map: the stack map fwharden wrote into .fwh_stackmap (every stack's bounds)."""

    def __init__(self) -> None:
        super().__init__("fwh-map", gdb.COMMAND_DATA)

    def invoke(self, argument: str, from_tty: bool) -> None:
        address, pattern, flags, stacks = read_stackmap()
        gdb.write(f"stack map at 0x{address:08x}: {len(stacks)} stacks, watermark pattern "
                  f"0x{pattern:08x}\n")
        gdb.write(f"{'stack':<8} {'base':>10} {'size':>6} {'guard':>10} {'guard B':>7} "
                  f"{'watermark':>10} {'wm B':>6} {'static worst case':>19} {'mirror':>10}\n")
        for ident, name, base, size, guard, gsize, wbase, wsize, worst, mirror, msize in stacks:
            label = name.rstrip(b"\0").decode()
            gdb.write(f"{label:<8} 0x{base:08x} {size:>6} 0x{guard:08x} {gsize:>7} "
                      f"0x{wbase:08x} {wsize:>6} {_bound(worst, flags, ident):>19} "
                      f"0x{mirror:08x}+{msize}\n")


class FwhStacks(gdb.Command):
    """fwh-stacks: each stack's high-water mark (painted watermark) against verify's
    static worst case from the stack map; in an irq_cycles build, then each handler's
    maximum cycles."""

    def __init__(self) -> None:
        super().__init__("fwh-stacks", gdb.COMMAND_DATA)

    def invoke(self, argument: str, from_tty: bool) -> None:
        address, pattern, flags, stacks = read_stackmap()
        sp = int(gdb.parse_and_eval("(unsigned int)$sp"))
        gdb.write(f"{'stack':<8} {'high-water':>11} {'static worst case':>19} {'size':>6}  "
                  "verdict\n")
        for ident, name, base, size, _g, _gs, wbase, wsize, worst, _m, _ms in stacks:
            label = name.rstrip(b"\0").decode()
            used = high_water(wbase, wsize, pattern)
            if worst == UNBOUNDED:
                verdict = "no static bound to compare"
            elif used <= worst:
                verdict = f"ok, {worst - used} B below the bound"
            elif flags & (1 << ident):
                verdict = "above the bound, which is only a minimum"
            else:
                verdict = (f"EXCEEDS the exact static bound by {used - worst} B (painted words "
                           "overwritten: by this stack, or by a neighbour's overflow)")
            if used >= wsize:
                verdict = "FULL: no painted word left, the stack ran into its guard"
            if worst != UNBOUNDED and worst > size:
                verdict += f"; the static bound is {worst - size} B more than the stack"
            now = f"; sp=0x{sp:08x}, {base + size - sp} B in use now" \
                if base < sp <= base + size else ""
            gdb.write(f"{label:<8} {used:>9} B {_bound(worst, flags, ident):>19} "
                      f"{size:>6}  {verdict}{now}\n")
        write_cycles(address, len(stacks))
        if _fault_recorded():
            gdb.write("note: a fault is recorded (fwh-fault); after an overflow the marks "
                      "include what the overflowing code and the exception entry wrote\n")


class FwhFault(gdb.Command):
    """fwh-fault: the runtime's .noinit fault record (fwh_last_fault), decoded as
    `fwharden decode-fault --record` does."""

    def __init__(self) -> None:
        super().__init__("fwh-fault", gdb.COMMAND_DATA)

    def invoke(self, argument: str, from_tty: bool) -> None:
        try:
            record = gdb.parse_and_eval("fwh_last_fault")
        except gdb.error:
            raise gdb.GdbError("fwharden: no fwh_last_fault in this firmware (the runtime "
                               "keeps it in .noinit)") from None
        raw = _read(int(record.address), record.type.sizeof)
        magic = struct.unpack_from("<I", raw)[0]
        if magic != RECORD_MAGIC:
            gdb.write(f"no fault recorded (fwh_last_fault.magic = 0x{magic:08x}, the runtime "
                      f"writes 0x{RECORD_MAGIC:08x})\n")
            return
        fields = [f.name for f in record.type.strip_typedefs().fields()]
        words = struct.unpack_from(f"<{len(fields)}I", raw)
        gdb.write("fwh_last_fault: " + " ".join(f"{n}=0x{v:08x}" for n, v in
                                                zip(fields, words, strict=False)) + "\n")
        command = SETTINGS["fwharden"]
        if not command or not SETTINGS["elf"]:
            gdb.write("(fwharden not configured: run fwharden decode-fault --record on a dump "
                      "of this record)\n")
            return
        with tempfile.NamedTemporaryFile(prefix="fwh-fault-", suffix=".bin",
                                         delete=False) as dump:
            dump.write(raw)
        try:
            result = subprocess.run([*command, "decode-fault", "--elf", SETTINGS["elf"],
                                     "--record", dump.name], capture_output=True, text=True,
                                    timeout=120, check=False)
        except OSError as exc:
            raise gdb.GdbError(f"fwharden: cannot run {command[0]} ({exc.strerror})") from None
        finally:
            os.unlink(dump.name)
        gdb.write(result.stdout if result.returncode == 0 else result.stderr)


FwhMap()
FwhStacks()
FwhFault()
