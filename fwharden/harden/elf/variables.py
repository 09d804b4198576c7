"""Global variables by address, named down to the field or element from DWARF.

A finding about shared data must say which variable (and which part of it) the code
touches. DWARF (v4/v5, 5.2 and 2.6) gives every variable with a static address as a
`DW_TAG_variable` whose `DW_AT_location` is `DW_OP_addr a`, and its type: struct and union
members with `DW_AT_data_member_location`, arrays with their element type and bounds. The
ELF's own STT_OBJECT symbols (name, address, size) are the fallback when a unit has no
debug information. Only what a report needs is read; damaged DWARF gives the symbol
names, never a traceback.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field

from fwharden.harden.elf.image import Image
from fwharden.harden.elf.lines import DWARF_ERRORS, LineTable

_DW_OP_ADDR = 0x03


@dataclass(frozen=True)
class Variable:
    """One variable with a static address: its name, extent and (when DWARF has it) the
    layout of its type, as (offset, size, name-suffix) leaves such as (4, 4, ".b")."""

    name: str
    address: int
    size: int
    leaves: tuple[tuple[int, int, str], ...] = ()

    @property
    def end(self) -> int:
        return self.address + max(self.size, 1)

    def part(self, address: int, width: int) -> str:
        """The name of the bytes [address, address + width): `pair.b`, `buf[3]`, or
        `wide (bytes 0..3 of 8)` when the access covers part of one leaf."""
        offset = address - self.address
        for lo, size, suffix in self.leaves:
            if lo <= offset < lo + size:
                name = self.name + suffix
                if offset == lo and width >= size:
                    return name
                return f"{name} (bytes {offset - lo}..{offset - lo + width - 1} of {size})"
        if offset == 0 and width >= self.size:
            return self.name
        return f"{self.name} (bytes {offset}..{offset + width - 1} of {self.size})"


@dataclass
class Variables:
    """Lookup from an address to the variable that holds it."""

    items: list[Variable] = field(default_factory=list)
    _starts: list[int] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.items.sort(key=lambda v: (v.address, -v.size))
        self._starts = [v.address for v in self.items]

    def at(self, address: int) -> Variable | None:
        index = bisect.bisect_right(self._starts, address) - 1
        while index >= 0:
            var = self.items[index]
            if var.address <= address < var.end:
                return var
            if var.address < address - 0x10000:
                break
            index -= 1
        return None

    def named(self, name: str) -> Variable | None:
        return next((v for v in self.items if v.name == name), None)


def load_variables(image: Image) -> Variables:
    """DWARF variables where the ELF has them, symbol-table objects for the rest."""
    found: dict[int, Variable] = {}
    try:
        for var in _dwarf_variables(image):
            found.setdefault(var.address, var)
    except DWARF_ERRORS:
        pass   # symbol names only (see the module docstring)
    for sym in image.data_symbols:
        if sym.address not in found:
            found[sym.address] = Variable(sym.name, sym.address, sym.size)
        elif found[sym.address].size == 0:
            found[sym.address] = Variable(found[sym.address].name, sym.address, sym.size,
                                          found[sym.address].leaves)
    return Variables(list(found.values()))


def _dwarf_variables(image: Image):
    if not image.raw:
        return
    # The DWARF the line lookups already parsed (one parse per image; not relocated, so
    # TinyGo's --emit-relocs R_ARM_NONE records do not stop it).
    dwarf = LineTable.of(image).dwarf()
    if dwarf is None:
        return
    for unit in dwarf.iter_CUs():
        # File-scope variables are children of the unit's DIE; walking only those (GCC's
        # DW_AT_sibling skips each function's subtree) is what keeps a large firmware
        # fast. Function-local statics keep their symbol-table names (`count.0`).
        for die in unit.get_top_DIE().iter_children():
            if die.tag != "DW_TAG_variable" or "DW_AT_location" not in die.attributes:
                continue
            location = die.attributes["DW_AT_location"]
            expr = location.value
            if not isinstance(expr, list) or len(expr) != 1 + (unit["address_size"]) \
                    or expr[0] != _DW_OP_ADDR:
                continue
            address = int.from_bytes(bytes(expr[1:]), "little")
            decl = die
            if "DW_AT_name" not in die.attributes and "DW_AT_specification" in die.attributes:
                decl = die.get_DIE_from_attribute("DW_AT_specification")
            name_attr = decl.attributes.get("DW_AT_name")
            if name_attr is None:
                continue
            name = name_attr.value.decode("utf-8", "replace") if isinstance(
                name_attr.value, bytes) else str(name_attr.value)
            type_die = _type_of(decl)
            size, leaves = _layout(type_die, 0)
            yield Variable(name, address, size, tuple(leaves))


def _type_of(die):
    if die is None or "DW_AT_type" not in die.attributes:
        return None
    return die.get_DIE_from_attribute("DW_AT_type")


_QUALIFIERS = ("DW_TAG_typedef", "DW_TAG_const_type", "DW_TAG_volatile_type",
               "DW_TAG_restrict_type", "DW_TAG_atomic_type")


def _layout(die, depth: int) -> tuple[int, list[tuple[int, int, str]]]:
    """(size, leaves) of a type; leaves name struct members and array elements (an array
    of more than 64 elements is one leaf per element up to 64, then the rest as `[n..]`)."""
    while die is not None and die.tag in _QUALIFIERS:
        die = _type_of(die)
    if die is None or depth > 6:
        return 0, []
    size = die.attributes["DW_AT_byte_size"].value if "DW_AT_byte_size" in die.attributes else 0
    if die.tag in ("DW_TAG_structure_type", "DW_TAG_union_type", "DW_TAG_class_type"):
        leaves: list[tuple[int, int, str]] = []
        for child in die.iter_children():
            if child.tag != "DW_TAG_member":
                continue
            name = child.attributes.get("DW_AT_name")
            label = (name.value.decode("utf-8", "replace") if isinstance(name.value, bytes)
                     else str(name.value)) if name else "?"
            where = child.attributes.get("DW_AT_data_member_location")
            offset = where.value if where is not None and isinstance(where.value, int) else 0
            member_size, inner = _layout(_type_of(child), depth + 1)
            if inner:
                leaves += [(offset + o, s, f".{label}{suffix}") for o, s, suffix in inner]
            else:
                leaves.append((offset, member_size, f".{label}"))
        return size, leaves
    if die.tag == "DW_TAG_array_type":
        element_size, inner = _layout(_type_of(die), depth + 1)
        count = 0
        for child in die.iter_children():
            if child.tag == "DW_TAG_subrange_type":
                if "DW_AT_count" in child.attributes:
                    count = child.attributes["DW_AT_count"].value
                elif "DW_AT_upper_bound" in child.attributes:
                    count = child.attributes["DW_AT_upper_bound"].value + 1
                break
        if not isinstance(count, int):
            count = 0
        if not size and element_size and count:
            size = element_size * count
        leaves = []
        if element_size:
            for index in range(min(count, 64)):
                base = index * element_size
                if inner:
                    leaves += [(base + o, s, f"[{index}]{suffix}") for o, s, suffix in inner]
                else:
                    leaves.append((base, element_size, f"[{index}]"))
            if count > 64:
                leaves.append((64 * element_size, (count - 64) * element_size, "[64..]"))
        return size, leaves
    return size, []
