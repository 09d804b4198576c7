"""The stack map: what the runtime reads from `.fwh_stackmap`, and the in-place patch.

Format (little endian, version 1), mirrored by `runtime/fwharden.h`:
  header   magic "FWHS" (u32), version (u16), count (u16), watermark pattern (u32),
           flags (u32: bit n = stack n's worst case is only a minimum)
  per stack (48 bytes): id, name[8], base, size, guard base, guard size, watermark base,
           watermark size, static worst case (0xFFFFFFFF = unbounded), mirror slot, size

  cycle slots (16 bytes, after the descriptors, only in an irq_cycles build): magic "FWHC",
           the address of the counter-kind word (0 none, 1 DWT CYCCNT, 2 mcycle), the
           address of the slot array (one u32 per vector table entry: the most cycles one
           run of that handler took), the slot count. Readers of version 1 that do not
           know it stop after the descriptors; the runtime uses its symbols directly.

Every value is read from the linked ELF's own symbols (the ones the generated linker
script exports), plus the worst cases `fwharden verify` found.

The patch changes only the bytes of the reserved section. LIEF locates the section and its
file offset; the bytes are written there in a copy of the file; the copy is then opened
again with LIEF and pyelftools to check that the section holds the new map and that every
other byte equals the linker's output. (Letting LIEF rebuild the file rewrites the symbol
and string tables and every section header's name offset: measured with LIEF 1.0.0.)
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

from fwharden.atomic import write_atomically
from fwharden.harden.elf.image import Image, open_elf
from fwharden.harden.errors import HardenError
from fwharden.inputs import printable

MAGIC = 0x53485746  # "FWHS"
VERSION = 1
HEADER = struct.Struct("<IHHII")
DESCRIPTOR = struct.Struct("<I8s9I")
UNBOUNDED = 0xFFFFFFFF
STACKS = (("isr", 0), ("thread", 1))
CYCLES_MAGIC = 0x43485746  # "FWHC"
CYCLES = struct.Struct("<IIII")
COUNTERS = ("none", "dwt", "mcycle")   # fwh_irq_cycles_counter values (fwharden.h)
SECTION = ".fwh_stackmap"


@dataclass(frozen=True)
class WorstCase:
    """A stack's static worst case as the map stores it."""

    bytes: int
    minimum_only: bool    # an at_least bound
    unbounded: bool


@dataclass(frozen=True)
class StackEntry:
    """One stack of the map: as the ELF's symbols place it, or as a map's bytes hold it.

    The watermark span is the whole stack (the runtime paints all of it). worst_case is
    None for an entry read from the symbols (the map is not filled in yet).
    """

    id: int
    name: str
    base: int
    size: int
    guard_base: int
    guard_size: int
    mirror: int
    mirror_size: int
    watermark_base: int
    watermark_size: int
    worst_case: WorstCase | None = None


@dataclass(frozen=True)
class CycleSlots:
    """Where an irq_cycles build keeps its per-handler maximum cycles (RAM addresses)."""

    counter: int       # address of fwh_irq_cycles_counter (FWH_CYCLES_* kind)
    slots: int         # address of fwh_irq_cycles_max[count]
    count: int         # one slot per vector table entry


@dataclass(frozen=True)
class StackMap:
    """The decoded contents of `.fwh_stackmap`."""

    pattern: int                     # the watermark word the runtime paints
    flags: int                       # bit n: stack n's worst case is only a minimum
    entries: tuple[StackEntry, ...]
    cycles: CycleSlots | None = None


def cycle_slots(image: Image) -> CycleSlots | None:
    """The irq_cycles slots of a build made with them (the symbols cycles.c and the
    generated vector table define), else None."""
    array = next((d for d in image.data_symbols if d.name == "fwh_irq_cycles_max"), None)
    counter = image.symbols.get("fwh_irq_cycles_counter")
    if array is None or counter is None or not array.size:
        return None
    return CycleSlots(counter=counter, slots=array.address, count=array.size // 4)


def read_cycle_slots(cycles: CycleSlots, read) -> tuple[str, dict[int, int]]:
    """(counter name, {slot: max cycles} for the slots that ran) from target memory;
    `read(address, size)` returns the bytes there (a RAM dump, a debugger)."""
    kind = struct.unpack("<I", read(cycles.counter, 4))[0]
    values = struct.unpack(f"<{cycles.count}I", read(cycles.slots, 4 * cycles.count))
    name = COUNTERS[kind] if kind < len(COUNTERS) else f"unknown ({kind})"
    return name, {slot: value for slot, value in enumerate(values) if value}


def stack_entries(image: Image) -> list[StackEntry]:
    """The stacks the generated linker script laid out, read back from the ELF."""
    sym = image.symbols
    entries = []
    for name, ident in STACKS:
        needed = [f"__fwh_{name}_{part}" for part in
                  ("stack_start", "stack_end", "guard_start", "guard_end", "mirror_start",
                   "mirror_end")]
        missing = [n for n in needed if n not in sym]
        if missing:
            raise HardenError(f"{image.path}: symbol {missing[0]} is missing; fix: link with "
                              "the linker script fwharden generates (linker = \"generated\")")
        entries.append(StackEntry(
            id=ident, name=name,
            base=sym[f"__fwh_{name}_stack_start"],
            size=sym[f"__fwh_{name}_stack_end"] - sym[f"__fwh_{name}_stack_start"],
            guard_base=sym[f"__fwh_{name}_guard_start"],
            guard_size=sym[f"__fwh_{name}_guard_end"] - sym[f"__fwh_{name}_guard_start"],
            mirror=sym[f"__fwh_{name}_mirror_start"],
            mirror_size=sym[f"__fwh_{name}_mirror_end"] - sym[f"__fwh_{name}_mirror_start"],
            watermark_base=sym[f"__fwh_{name}_stack_start"],
            watermark_size=sym[f"__fwh_{name}_stack_end"] - sym[f"__fwh_{name}_stack_start"]))
    return entries


def build_stackmap(entries: list[StackEntry], pattern: int, worst: dict[str, WorstCase],
                   capacity: int, cycles: CycleSlots | None = None) -> bytes:
    """The section's new contents, zero-padded to `capacity` bytes."""
    flags = 0
    body = b""
    for entry in entries:
        bound = worst.get(entry.name)
        value = UNBOUNDED if bound is None or bound.unbounded else bound.bytes
        if bound is not None and bound.minimum_only:
            flags |= 1 << entry.id
        body += DESCRIPTOR.pack(entry.id, entry.name.encode()[:8], entry.base, entry.size,
                                entry.guard_base, entry.guard_size, entry.watermark_base,
                                entry.watermark_size, value, entry.mirror, entry.mirror_size)
    content = HEADER.pack(MAGIC, VERSION, len(entries), pattern, flags) + body
    if cycles is not None:
        content += CYCLES.pack(CYCLES_MAGIC, cycles.counter, cycles.slots, cycles.count)
    if len(content) > capacity:
        raise HardenError(f"stack map needs {len(content)} bytes but {SECTION} has {capacity}")
    return content + bytes(capacity - len(content))


def section_location(path: Path) -> tuple[int, int]:
    """(file offset, size) of the reserved section, located by LIEF."""
    import lief  # NOTE: imported here only: `import lief` costs ~0.6 s on every build

    binary = lief.ELF.parse(str(path))
    if binary is None:
        raise HardenError(f"{path}: LIEF cannot parse this ELF")
    section = binary.get_section(SECTION)
    if section is None:
        raise HardenError(f"{path}: no {SECTION} section; fix: link with fwharden's generated "
                          "linker script and vector table")
    return section.offset, section.size


def patch_stackmap(source: Path, target: Path, image: Image,
                   worst: dict[str, WorstCase]) -> bytes:
    """Write `target`: `source` with the stack map filled in. Returns the map's bytes."""
    offset, size = section_location(source)
    pattern = image.symbols.get("__fwh_watermark_pattern")
    if pattern is None:
        raise HardenError(f"{source}: symbol __fwh_watermark_pattern is missing")
    content = build_stackmap(stack_entries(image), pattern, worst, size, cycle_slots(image))
    original = source.read_bytes()
    patched = original[:offset] + content + original[offset + size:]
    write_atomically(target, patched, executable=True,
                     check=lambda tmp: _check_patch(tmp, original, offset, content))
    return content


def _check_patch(path: Path, original: bytes, offset: int, content: bytes) -> None:
    """Re-open the patched file with LIEF and pyelftools: the section holds the map, and
    every byte outside it is the linker's."""
    import lief  # NOTE: here only, as in section_location

    data = path.read_bytes()
    end = offset + len(content)
    if len(data) != len(original) or data[:offset] != original[:offset] or \
            data[end:] != original[end:]:
        raise HardenError(f"BUG(fwharden): patching {SECTION} changed bytes outside it")
    binary = lief.ELF.parse(str(path))
    if binary is None or bytes(binary.get_section(SECTION).content) != content:
        raise HardenError(f"BUG(fwharden): LIEF does not read back the patched {SECTION}")
    with open_elf(path) as elf:
        section = elf.get_section_by_name(SECTION)
        if section is None or section.data() != content:
            raise HardenError(f"BUG(fwharden): pyelftools does not read back the patched "
                              f"{SECTION}")


def holds_stackmap(data: bytes) -> bool:
    """Whether the section's bytes start with a filled-in map (the link leaves zeros)."""
    return len(data) >= HEADER.size and HEADER.unpack_from(data)[:2] == (MAGIC, VERSION)


def parse_stackmap(data: bytes) -> StackMap:
    """The stack map held in a `.fwh_stackmap` section's bytes; for decode-fault and tests."""
    if len(data) < HEADER.size:
        raise HardenError(f"{SECTION} is {len(data)} bytes, too short for a stack map header")
    magic, version, count, pattern, flags = HEADER.unpack_from(data)
    if magic != MAGIC or version != VERSION:
        raise HardenError(f"{SECTION} holds no stack map (magic 0x{magic:08x}); fix: build "
                          "with the SCons tool, which fills it in after the link")
    if HEADER.size + count * DESCRIPTOR.size > len(data):
        raise HardenError(f"{SECTION} claims {count} stacks but holds {len(data)} bytes; the "
                          "stack map is damaged")
    entries = []
    for index in range(count):
        (ident, name, base, size, guard, guard_size, wbase, wsize, worst, mirror,
         mirror_size) = DESCRIPTOR.unpack_from(data, HEADER.size + index * DESCRIPTOR.size)
        raw = name.rstrip(b"\0")
        try:
            label = raw.decode("ascii")
        except UnicodeDecodeError:
            raise HardenError(f"stack {ident} in {SECTION} is named {printable(raw)!r}, not "
                              "ASCII; fix: rebuild with the SCons tool, which writes the stack "
                              "map") from None
        bound = WorstCase(0 if worst == UNBOUNDED else worst, bool(flags >> ident & 1),
                          worst == UNBOUNDED)
        entries.append(StackEntry(id=ident, name=label, base=base, size=size, guard_base=guard,
                                  guard_size=guard_size, mirror=mirror, mirror_size=mirror_size,
                                  watermark_base=wbase, watermark_size=wsize, worst_case=bound))
    cycles = None
    trailer = HEADER.size + count * DESCRIPTOR.size
    if len(data) >= trailer + CYCLES.size:
        magic, counter, slots, slot_count = CYCLES.unpack_from(data, trailer)
        if magic == CYCLES_MAGIC:
            cycles = CycleSlots(counter=counter, slots=slots, count=slot_count)
    return StackMap(pattern, flags, tuple(entries), cycles)
