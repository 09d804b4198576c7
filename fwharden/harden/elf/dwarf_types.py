"""C types from DWARF: struct layouts, global variables and function signatures.

Indirect calls are resolved by what the call loads (analysis/pointers.py): `pdev->pClass->Init`
is "member at offset 0 of USBD_ClassTypeDef, loaded through member 0x2b8 of
USBD_HandleTypeDef". That needs what only the debug information knows: which struct a
pointer parameter points to, where its members lie (DW_TAG_member's
DW_AT_data_member_location), which global variable holds an address (DW_OP_addr
locations) and the parameter types of every function (DWARF 5 sections 5.7, 4.1, 3.3).

The reader keeps one small record per DIE that matters (types, variables, subprograms)
and resolves typedefs and qualifiers on lookup. Damaged or unusual DWARF yields fewer
facts, never an exception: what cannot be typed stays unresolved for the analysis.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from fwharden.harden.elf.image import Image
from fwharden.harden.elf.lines import DWARF_ERRORS, LineTable

_TYPE_TAGS = {
    "DW_TAG_base_type": "base", "DW_TAG_pointer_type": "pointer",
    "DW_TAG_structure_type": "struct", "DW_TAG_class_type": "struct",
    "DW_TAG_union_type": "union", "DW_TAG_array_type": "array",
    "DW_TAG_subroutine_type": "function", "DW_TAG_enumeration_type": "enum",
    "DW_TAG_typedef": "alias", "DW_TAG_const_type": "alias", "DW_TAG_volatile_type": "alias",
    "DW_TAG_restrict_type": "alias", "DW_TAG_atomic_type": "alias",
    "DW_TAG_reference_type": "pointer", "DW_TAG_rvalue_reference_type": "pointer",
    "DW_TAG_unspecified_type": "base",
}
_REF_FORMS = {"DW_FORM_ref1", "DW_FORM_ref2", "DW_FORM_ref4", "DW_FORM_ref8",
              "DW_FORM_ref_udata"}
_DW_OP_ADDR = 0x03
_DW_ATE_FLOAT = 0x04
_CLONE_MARKS = (".isra", ".constprop", ".part", ".cold")


@dataclass
class CType:
    """One type DIE. kind: base, pointer, struct, union, array, function, enum, alias
    (typedef and qualifiers), void."""

    kind: str
    name: str = ""
    size: int | None = None
    target: int | None = None           # pointee, element, aliased or return type (DIE offset)
    members: tuple[tuple[int, str, int | None], ...] = ()   # (offset, name, type)
    count: int | None = None            # array elements (first dimension times the others)
    params: tuple[int | None, ...] | None = None  # function: parameter types; None: unprototyped
    variadic: bool = False
    floating: bool = False              # base type with a floating-point encoding
    key: str = ""                       # struct/union identity across compile units
    volatile: bool = False              # DW_TAG_volatile_type: may change outside the program


@dataclass(frozen=True)
class Variable:
    name: str
    address: int
    type: int | None
    size: int


@dataclass(frozen=True)
class Subprogram:
    name: str
    address: int
    params: tuple[int | None, ...] | None   # None: not prototyped or unknown
    variadic: bool
    returns: int | None


@dataclass
class DwarfTypes:
    types: dict[int, CType] = field(default_factory=dict)
    variables: list[Variable] = field(default_factory=list)   # sorted by address
    subprograms: dict[int, Subprogram] = field(default_factory=dict)  # by low_pc
    _starts: list[int] = field(default_factory=list, repr=False)

    def resolve(self, tid: int | None) -> CType | None:
        """The type behind typedefs and qualifiers; None for void or an unknown DIE."""
        seen = 0
        while tid is not None and seen < 64:
            ctype = self.types.get(tid)
            if ctype is None:
                return None
            if ctype.kind != "alias":
                return ctype
            tid = ctype.target
            seen += 1
        return None

    def is_volatile(self, tid: int | None) -> bool:
        """Whether the type is volatile-qualified (through typedefs and other qualifiers)."""
        for _ in range(64):
            ctype = self.types.get(tid) if tid is not None else None
            if ctype is None or ctype.kind != "alias":
                return False
            if ctype.volatile:
                return True
            tid = ctype.target
        return False

    def size_of(self, tid: int | None) -> int | None:
        ctype = self.resolve(tid)
        if ctype is None:
            return None
        if ctype.kind == "pointer":
            return 4
        if ctype.kind == "array":
            element = self.size_of(ctype.target)
            return None if element is None or ctype.count is None else element * ctype.count
        return ctype.size

    def pointee(self, tid: int | None) -> int | None:
        """For a pointer type, what it points to (DIE offset, maybe an alias)."""
        ctype = self.resolve(tid)
        return ctype.target if ctype is not None and ctype.kind == "pointer" else None

    def function_pointer(self, tid: int | None) -> CType | None:
        """The subroutine type a pointer-to-function type points to."""
        target = self.resolve(self.pointee(tid))
        return target if target is not None and target.kind == "function" else None

    def variable_at(self, address: int) -> Variable | None:
        import bisect
        index = bisect.bisect_right(self._starts, address) - 1
        while index >= 0:
            var = self.variables[index]
            if var.address <= address < var.address + max(var.size, 1):
                return var
            if var.address + 4096 < address:
                break
            index -= 1
        return None

    def locate(self, tid: int | None, offset: int) -> tuple[int | None, str, int] | None:
        """The scalar at byte `offset` of an object of type `tid`: (its type, the key of the
        innermost struct holding it, its offset in that struct). Array elements are folded
        onto element 0 (any element may be the one). None inside a union (its members
        overlap: no one type) or past the object."""
        key, pos = "", 0   # the innermost struct, and where the sub-object lies in it
        for _ in range(32):
            ctype = self.resolve(tid)
            if ctype is None:
                return (tid, key, pos) if offset == 0 else None
            if ctype.kind == "struct":
                hit = None
                for m_off, _name, m_type in ctype.members:
                    size = self.size_of(m_type)
                    if m_off <= offset and (size is None or offset < m_off + max(size, 1)):
                        hit = (m_off, m_type)
                if hit is None:
                    return None
                key, pos = ctype.key, hit[0]
                offset -= hit[0]
                tid = hit[1]
                continue
            if ctype.kind == "union":
                return None
            if ctype.kind == "array":
                element = self.size_of(ctype.target)
                if not element:
                    return None
                offset %= element    # any element: folded onto element 0
                tid = ctype.target
                continue
            if offset != 0:
                return None
            return (tid, key, pos)
        return None

    def slots(self, tid: int | None, limit: int = 1 << 16) -> list[tuple[int, int | None]]:
        """(offset, type) of every pointer-sized scalar in an object of type `tid`, arrays
        expanded (up to `limit` bytes), for reading initialised tables."""
        out: list[tuple[int, int | None]] = []
        self._walk(tid, 0, out, limit, 0)
        return out

    @staticmethod
    def compatible(a: tuple[str, ...], b: tuple[str, ...]) -> bool:
        """Signatures that may call each other: same classes, where a pointer to a named
        struct matches the same struct or any other pointer (void *, char *)."""
        return len(a) == len(b) and all(
            x == y or (x.startswith("p") and y.startswith("p") and ("p" in (x, y)))
            for x, y in zip(a, b, strict=True))

    def _walk(self, tid, at: int, out: list, limit: int, depth: int) -> None:
        if depth > 24 or at >= limit:
            return
        ctype = self.resolve(tid)
        if ctype is None:
            return
        if ctype.kind == "struct":
            for m_off, _name, m_type in ctype.members:
                self._walk(m_type, at + m_off, out, limit, depth + 1)
        elif ctype.kind == "array":
            element = self.size_of(ctype.target)
            if not element or ctype.count is None:
                return
            for index in range(min(ctype.count, max(limit - at, 0) // element + 1)):
                self._walk(ctype.target, at + index * element, out, limit, depth + 1)
        elif ctype.kind == "pointer":
            out.append((at, tid))

    def signature(self, params: tuple[int | None, ...] | None,
                  variadic: bool) -> tuple[str, ...] | None:
        """Parameter classes as the calling convention sees them (pointer, word-sized
        integer, 8-byte integer, float, double, struct of n bytes); None when the function
        takes anything (unprototyped or variadic)."""
        if params is None or variadic:
            return None
        out = []
        for tid in params:
            ctype = self.resolve(tid)
            if ctype is None:
                return None
            if ctype.kind in ("pointer", "array"):
                # A pointer to a struct keeps the struct's name: calling a function whose
                # parameter points to another struct type is undefined (C11 6.3.2.3p8).
                target = self.resolve(ctype.target)
                out.append(f"p:{target.key}" if target is not None and target.key else "p")
            elif ctype.kind in ("struct", "union"):
                out.append(f"s{self.size_of(tid)}")
            elif ctype.floating:
                out.append(f"f{ctype.size}")
            elif ctype.kind in ("base", "enum"):
                out.append("w" if (ctype.size or 4) <= 4 else f"i{ctype.size}")
            else:
                return None
        return tuple(out)


def _ref(die, attr: str) -> int | None:
    value = die.attributes.get(attr)
    if value is None:
        return None
    if value.form in _REF_FORMS:
        return value.value + die.cu.cu_offset
    if value.form == "DW_FORM_ref_addr":
        return value.value
    return None


def _int(die, attr: str) -> int | None:
    value = die.attributes.get(attr)
    return value.value if value is not None and isinstance(value.value, int) else None


def _name(die) -> str:
    value = die.attributes.get("DW_AT_name")
    if value is None:
        return ""
    raw = value.value
    return raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)


def _uleb(raw: bytes) -> tuple[int, int]:
    result = shift = used = 0
    for byte in raw:
        used += 1
        result |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            break
    return result, used


def _address(die, dwarf: Callable) -> int | None:
    """The address of a static variable: a location that is exactly DW_OP_addr a, or
    DW_OP_addrx i (DWARF 5, clang's default: an index into .debug_addr)."""
    value = die.attributes.get("DW_AT_location")
    if value is None or not isinstance(value.value, list | bytes):
        return None
    raw = bytes(value.value)
    if len(raw) == 5 and raw[0] == _DW_OP_ADDR:
        return int.from_bytes(raw[1:5], "little")
    if raw[:1] in (b"\xa1", b"\xfb"):    # DW_OP_addrx, DW_OP_GNU_addr_index
        index, used = _uleb(raw[1:])
        if 1 + used == len(raw):
            return dwarf(die.cu, index)
    return None


def _low_pc(die) -> int | None:
    """DW_AT_low_pc (pyelftools already reads DW_FORM_addrx through .debug_addr)."""
    value = die.attributes.get("DW_AT_low_pc")
    return value.value if value is not None and isinstance(value.value, int) else None


def _member_offset(die) -> int | None:
    value = die.attributes.get("DW_AT_data_member_location")
    if value is None:
        return 0   # union members and the first member may omit it
    if isinstance(value.value, int):
        return value.value
    raw = bytes(value.value) if isinstance(value.value, list) else b""
    if raw[:1] == b"\x23":   # DW_OP_plus_uconst ULEB128 (DWARF 2 style)
        result, shift = 0, 0
        for byte in raw[1:]:
            result |= (byte & 0x7F) << shift
            shift += 7
            if not byte & 0x80:
                return result
    return None


def load_dwarf_types(image: Image) -> DwarfTypes | None:
    """The types of `image`'s debug information; None when it has none or it is damaged."""
    if not image.raw:
        return None
    try:
        # One DWARF parse per image, shared with the line lookups and the variables.
        table_of_lines = LineTable.of(image)
        dwarf = table_of_lines.dwarf()
        if dwarf is None or dwarf.debug_info_sec is None:
            return None
        elf = table_of_lines.elf()
        section = elf.get_section_by_name(".debug_addr")
        table = section.data() if section is not None else b""
        bases: dict[int, int] = {}

        def addrx(unit, index: int) -> int | None:
            """Entry `index` of the unit's .debug_addr table (DWARF 5 section 7.27)."""
            if unit.cu_offset not in bases:
                base = unit.get_top_DIE().attributes.get("DW_AT_addr_base")
                bases[unit.cu_offset] = base.value if base is not None else 8
            at = bases[unit.cu_offset] + 4 * index
            return int.from_bytes(table[at:at + 4], "little") if at + 4 <= len(table) else None

        return _read(dwarf, image, addrx)
    except DWARF_ERRORS:
        return None


def _read(dwarf, image: Image, addrx) -> DwarfTypes:
    out = DwarfTypes()
    raw_vars: list[tuple[int, object]] = []
    raw_subs: list[object] = []
    specs: dict[int, object] = {}
    typedef_names: dict[int, str] = {}
    for unit in dwarf.iter_CUs():
        for die in unit.iter_DIEs():
            tag = die.tag
            if tag is None:
                continue
            kind = _TYPE_TAGS.get(tag)
            if kind is not None:
                ctype = CType(kind, _name(die), _int(die, "DW_AT_byte_size"),
                              _ref(die, "DW_AT_type"))
                ctype.volatile = tag == "DW_TAG_volatile_type"
                if kind == "base":
                    ctype.floating = _int(die, "DW_AT_encoding") == _DW_ATE_FLOAT
                if kind in ("struct", "union"):
                    members = []
                    for child in die.iter_children():
                        if child.tag == "DW_TAG_member" and "DW_AT_bit_size" not in child.attributes:
                            offset = _member_offset(child)
                            if offset is not None:
                                members.append((offset, _name(child), _ref(child, "DW_AT_type")))
                    ctype.members = tuple(members)
                    ctype.key = f"{kind} {ctype.name}" if ctype.name else f"{kind} @{die.offset}"
                elif kind == "array":
                    count = 1
                    for child in die.iter_children():
                        if child.tag == "DW_TAG_subrange_type":
                            n = _int(child, "DW_AT_count")
                            upper = _int(child, "DW_AT_upper_bound")
                            if n is None and upper is not None:
                                n = upper + 1
                            count = count * n if n is not None and count is not None else None
                    ctype.count = count
                elif kind == "function":
                    params, variadic = _params(die)
                    ctype.params = params if "DW_AT_prototyped" in die.attributes else None
                    ctype.variadic = variadic
                if tag == "DW_TAG_typedef" and ctype.target is not None:
                    typedef_names.setdefault(ctype.target, ctype.name)
                out.types[die.offset] = ctype
            elif tag == "DW_TAG_variable":
                specs[die.offset] = die
                address = _address(die, addrx)
                if address is not None:
                    raw_vars.append((address, die))
            elif tag == "DW_TAG_subprogram":
                specs[die.offset] = die
                if "DW_AT_low_pc" in die.attributes:
                    raw_subs.append(die)
            elif tag == "DW_TAG_formal_parameter":
                specs[die.offset] = die
    # An anonymous struct is known by its typedef's name (typedef struct {...} X;).
    for target, name in typedef_names.items():
        ctype = out.types.get(target)
        if ctype is not None and ctype.kind in ("struct", "union") and not ctype.name:
            ctype.key = f"{ctype.kind} {name}"
    for address, die in raw_vars:
        origin = die
        for attr in ("DW_AT_specification", "DW_AT_abstract_origin"):
            ref = _ref(die, attr)
            if ref in specs:
                origin = specs[ref]
        tid = _ref(die, "DW_AT_type") or _ref(origin, "DW_AT_type")
        name = _name(die) or _name(origin)
        out.variables.append(Variable(name, address, tid, out.size_of(tid) or 0))
    out.variables.sort(key=lambda v: v.address)
    out._starts = [v.address for v in out.variables]
    for die in raw_subs:
        low = _low_pc(die)
        if low is None:
            continue
        origin = die
        for _ in range(4):
            ref = _ref(origin, "DW_AT_abstract_origin") or _ref(origin, "DW_AT_specification")
            if ref not in specs:
                break
            origin = specs[ref]
        params, variadic = _params(die, specs)
        if params is not None and not params and origin is not die:
            params, variadic = _params(origin, specs)
        prototyped = "DW_AT_prototyped" in die.attributes or "DW_AT_prototyped" in origin.attributes
        func = image.function_at(low & ~1 if image.family == "arm" else low)
        if func is None or any(mark in n for n in func.names for mark in _CLONE_MARKS):
            # A compiler clone (-fipa-sra, constant propagation) may have dropped or
            # reordered parameters: its registers no longer follow the DWARF list.
            params = None
        out.subprograms[func.address if func else low] = Subprogram(
            _name(die) or _name(origin), low, params if prototyped else None, variadic,
            _ref(die, "DW_AT_type") or _ref(origin, "DW_AT_type"))
    return out


def _params(die, specs: dict | None = None) -> tuple[tuple[int | None, ...] | None, bool]:
    params: list[int | None] = []
    variadic = False
    for child in die.iter_children():
        if child.tag == "DW_TAG_formal_parameter":
            tid = _ref(child, "DW_AT_type")
            if tid is None and specs is not None:
                origin = specs.get(_ref(child, "DW_AT_abstract_origin"))
                tid = _ref(origin, "DW_AT_type") if origin is not None else None
            params.append(tid)
        elif child.tag == "DW_TAG_unspecified_parameters":
            variadic = True
    return tuple(params), variadic
