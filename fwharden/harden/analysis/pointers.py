"""Where function pointers can point: indirect calls resolved from the binary and its DWARF.

An indirect call loads its target from somewhere. When the load is a struct member
(`pdev->pClass->Init`: member 0 of `struct _Device_cb`, reached through member 0x2b8 of
`struct _USBD_HandleTypeDef`) the call can only go where that member can point, and the
whole program says where that is:

1. initialised objects: every word at that member in every variable of that struct type
   in .data/.rodata (the USB class table `USBD_CDC`, descriptor tables, ops structs);
2. stores at run time: every `str` of a function address into that member of that type
   (HAL's `hdma->XferCpltCallback = UART_DMAReceiveCplt`), and stores of a parameter,
   followed to the constant arguments of the callers (`HAL_UART_RegisterCallback(.., cb)`);
3. escapes: a function address that goes anywhere the analysis cannot follow (stored into
   an untyped place, passed to code it cannot read, lost at a control-flow join) may end
   up in any member: it is added to every member whose function-pointer type it matches.

A member that receives a value the analysis cannot name (a computed or unknown value) is
not enumerated: its call falls back to type narrowing (every address-taken function whose
DWARF type matches the pointer type at the call), and without a type it stays an
unresolved finding. So a resolved set is a superset of the real targets, as far as the
program obeys C's typing of function pointers (a call through a pointer of another
function type is undefined behaviour, C11 6.3.2.3p8) and copies objects holding function
pointers only as objects of their own type. Code without DWARF is still read for what its
function addresses do; its stores are untyped, so what it stores escapes.

The analysis is a data-flow pass over each function's Thumb code (ARM DDI 0403E A7; the
calling convention is AAPCS 5.5: arguments in r0-r3, r0-r3/r12/lr clobbered by a call),
with symbolic values: a parameter, a constant, the entry SP plus an offset, a word loaded
from another value plus an offset, a function's return value, an array element. Values
meet at joins as sets. RISC-V code is not read yet: its indirect calls stay unresolved.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

import capstone
from capstone import arm_const as A

from fwharden.harden.elf.dwarf_types import DwarfTypes, load_dwarf_types
from fwharden.harden.elf.image import Function, Image

_CS = capstone.Cs(capstone.CS_ARCH_ARM, capstone.CS_MODE_THUMB | capstone.CS_MODE_MCLASS)
_CS.detail = True

ESC = ("esc",)
MAX_JOIN = 8          # values one register may hold at a join before it is given up
MAX_VISITS = 8        # passes over one block before a loop's registers are given up
_ARGS = ("r0", "r1", "r2", "r3")
_CLOBBERED = ("r0", "r1", "r2", "r3", "r12", "lr")
_COMPARES = {A.ARM_INS_CMP, A.ARM_INS_CMN, A.ARM_INS_TST, A.ARM_INS_TEQ, A.ARM_INS_CBZ,
             A.ARM_INS_CBNZ, A.ARM_INS_IT, A.ARM_INS_NOP}
_LOADS = {A.ARM_INS_LDR: 4, A.ARM_INS_LDRB: 1, A.ARM_INS_LDRH: 2, A.ARM_INS_LDRSB: 1,
          A.ARM_INS_LDRSH: 2, A.ARM_INS_LDREX: 4}
_STORES = {A.ARM_INS_STR: 4, A.ARM_INS_STRB: 1, A.ARM_INS_STRH: 2}
_COND_BRANCHES = {A.ARM_INS_CBZ, A.ARM_INS_CBNZ}

# Values (hashable tuples):
#   ("c", n)                  the constant n
#   ("p", i, k)               parameter i plus k
#   ("s", k)                  SP at entry plus k
#   ("m", base, off, k)       the word loaded from base+off, plus k
#   ("r", callee, k)          what a direct call to callee returned, plus k
#   ("x", base, k)            base plus an unknown index, plus k (an array element)
#   ("j", frozenset)          one of several values (control-flow join); ("u",) unknown
Value = tuple
UNKNOWN: Value = ("u",)


def _plus(value: Value | None, k: int) -> Value | None:
    if value is None or k == 0:
        return value
    kind = value[0]
    if kind == "c":
        return ("c", (value[1] + k) & 0xFFFFFFFF)
    if kind == "p":
        return ("p", value[1], value[2] + k)
    if kind == "s":
        return ("s", value[1] + k)
    if kind == "m":
        return ("m", value[1], value[2], value[3] + k)
    if kind in ("r", "x", "n"):
        return (kind, value[1], value[2] + k) if kind != "n" else ("n", value[1] + k)
    if kind == "j":
        return ("j", frozenset(_plus(v, k) or UNKNOWN for v in value[1]))
    return None


def _split(value: Value) -> tuple[Value, int]:
    """(value without its constant part, the constant part)."""
    kind = value[0]
    if kind == "p":
        return ("p", value[1], 0), value[2]
    if kind == "m":
        return ("m", value[1], value[2], 0), value[3]
    if kind == "r":
        return ("r", value[1], 0), value[2]
    return value, 0   # "x": its constant is part of the element's position


def _constant_part(value: Value | None) -> int:
    """The known constant in an index register: `adds r2, #174` on a loaded number."""
    if value is None:
        return 0
    if value[0] == "n":
        return value[1]
    if value[0] == "m":
        return value[3]
    if value[0] in ("p", "r"):
        return value[2]
    return 0


def _members(value: Value | None) -> tuple[Value, ...]:
    if value is None:
        return (UNKNOWN,)
    return tuple(value[1]) if value[0] == "j" else (value,)


def _join(a: Value | None, b: Value | None) -> Value | None:
    if a == b:
        return a
    values = frozenset((*_members(a), *_members(b)))
    return ("j", values)


@dataclass
class Facts:
    """The whole program's flow graph of function addresses.

    Nodes: ("k", key) a function-pointer location (struct member or variable), ("a",
    function, i) a parameter, ESC. `sources[node]` are function addresses put there (with
    where, for the report), `edges` say what flows on, `unknown` nodes got a value that
    is not followed."""

    sources: dict[tuple, dict[int, str]] = field(default_factory=lambda: defaultdict(dict))
    edges: dict[tuple, set[tuple]] = field(default_factory=lambda: defaultdict(set))
    unknown: dict[tuple, str] = field(default_factory=dict)
    taken: set[int] = field(default_factory=set)      # every address-taken function
    # Solved: node -> functions, node -> unknown
    values: dict[tuple, set[int]] = field(default_factory=dict)
    tainted: set[tuple] = field(default_factory=set)

    def source(self, node: tuple, function: int, where: str) -> None:
        if not (node[0] == "k" and node[1][0].startswith("section .")):
            self.taken.add(function)   # start-up arrays are read by crt0 only
        self.sources[node].setdefault(function, where)

    def solve(self, params: dict[int, int]) -> None:
        """Propagate along the edges. Parameters of address-taken functions receive what
        indirect callers pass: anything (unknown) and every escaped address."""
        for function in self.taken:
            for i in range(params.get(function, 4)):
                self.edges[ESC].add(("a", function, i))
                self.unknown.setdefault(("a", function, i), "the function is called "
                                        "through a pointer too")
        values: dict[tuple, set[int]] = defaultdict(set)
        for node, found in self.sources.items():
            values[node].update(found)
        tainted = set(self.unknown)
        changed = True
        while changed:
            changed = False
            for node, targets in list(self.edges.items()):
                here = values.get(node, set())
                for target in targets:
                    if here - values[target]:
                        values[target] |= here
                        changed = True
                    if node in tainted and target not in tainted:
                        tainted.add(target)
                        changed = True
        self.values = dict(values)
        self.tainted = tainted


@dataclass(frozen=True)
class Resolution:
    targets: tuple[int, ...]
    how: str
    candidates: tuple[int, ...] = ()   # for an unresolved call: type-matched candidates


@dataclass
class _State:
    regs: dict[str, Value]
    slots: dict[int, Value]

    def copy(self) -> _State:
        return _State(dict(self.regs), dict(self.slots))


class Pointers:
    """The flow facts of one image, built on first use, and the resolver for call sites."""

    def __init__(self, image: Image, types: DwarfTypes, exclude: tuple[tuple[int, int], ...] = ()):
        self.image, self.types = image, types
        self.exclude = exclude     # data ranges that are no pointer tables (vector tables)
        self.facts = Facts()
        self.sites: dict[int, Value | None] = {}     # call site -> value of the target
        self.site_function: dict[int, int] = {}
        self._built = False
        self._starts = {f.address for f in image.functions}
        self.function = 0          # the function whose parameters "p" values name
        # void * locations -> the pointee types of what the code stores there (None: a
        # value of no known type); read once the whole program is walked.
        self.void_types: dict[tuple, set] = defaultdict(set)
        self._solved = False

    # -- types ---------------------------------------------------------------------
    def _param_type(self, function: int, index: int) -> int | None:
        sub = self.types.subprograms.get(function)
        if sub is None or sub.params is None or index >= len(sub.params):
            return None
        # AAPCS 5.5: r0-r3 carry word-sized arguments in order; anything wider or a float
        # (VFP registers with the hard-float ABI) makes the later registers uncertain.
        for tid in sub.params[:index]:
            ctype = self.types.resolve(tid)
            if ctype is None or ctype.floating or (self.types.size_of(tid) or 8) > 4:
                return None
        return sub.params[index]

    def _param_count(self, function: int) -> int:
        """Parameters to follow: up to 4 in r0-r3 and 4 more on the stack (AAPCS 5.5:
        word-sized arguments after the fourth go to [SP], [SP+4], ... at the call)."""
        sub = self.types.subprograms.get(function)
        if sub is None or sub.params is None or sub.variadic:
            return 4
        return min(len(sub.params), 8)

    def _pointee(self, value: Value, depth: int = 0) -> tuple[int | None, int] | None:
        """(object type, offset into it) that a pointer value points to."""
        if depth > 12:
            return None
        kind = value[0]
        if kind == "c":
            var = self.types.variable_at(value[1])
            return (var.type, value[1] - var.address) if var is not None else None
        if kind == "p":
            tid = self.types.pointee(self._param_type(self.function, value[1]))
            return (tid, value[2]) if tid is not None else None
        if kind == "m":
            located = self._location(value[1], value[2], depth + 1)
            if located is None:
                return None
            tid = self.types.pointee(located[0])
            if tid is None and self._solved and self.types.resolve(located[0]) is not None \
                    and self.types.resolve(located[0]).kind == "pointer":
                # A void * member: it points to what the program stores in it, when every
                # store is a pointer of one type (hdma->Parent = hadc; pUserData = fops).
                stored = self.void_types.get(located[1], {None})
                if len(stored) == 1 and None not in stored:
                    tid = next(iter(stored))
            return (tid, value[3]) if tid is not None else None
        if kind == "r":
            sub = self.types.subprograms.get(value[1])
            tid = self.types.pointee(sub.returns) if sub is not None else None
            return (tid, value[2]) if tid is not None else None
        if kind == "x":
            inner = self._pointee(value[1], depth + 1)
            if inner is None:
                return None
            return self._element(inner[0], inner[1] + value[2])
        if kind == "j":
            found = {self._pointee(v, depth + 1) for v in value[1]}
            return found.pop() if len(found) == 1 else None
        return None

    def _element(self, tid: int | None, offset: int) -> tuple[int | None, int] | None:
        """The array at `offset` in an object of type `tid`: (element type, offset in it)."""
        types = self.types
        for _ in range(16):
            ctype = types.resolve(tid)
            if ctype is None:
                return None
            if ctype.kind == "array":
                size = types.size_of(ctype.target)
                return (ctype.target, offset % size) if size else None
            if ctype.kind != "struct":
                return None
            hit = None
            for m_off, _name, m_type in ctype.members:
                size = types.size_of(m_type)
                if m_off <= offset and (size is None or offset < m_off + max(size, 1)):
                    hit = (m_off, m_type)
            if hit is None:
                return None
            offset -= hit[0]
            tid = hit[1]
        return None

    def _location(self, base: Value, off: int, depth: int = 0):
        """(type, key) of the word at base+off; key names a function-pointer location."""
        base, k = _split(base)
        if base[0] == "c":
            address = (base[1] + k + off) & 0xFFFFFFFF
            var = self.types.variable_at(address)
            if var is None:
                return None
            located = self.types.locate(var.type, address - var.address)
            if located is None:
                return None
            tid, key, pos = located
            return tid, (key, pos) if key else (f"variable {var.name}", pos)
        pointee = self._pointee(base, depth)
        if pointee is None or pointee[0] is None:
            return None
        scalar = self.types.resolve(pointee[0])
        if scalar is not None and scalar.kind in ("base", "enum", "pointer"):
            # A pointer to a scalar walks an array of them (pointer arithmetic): every
            # offset is one of those scalars.
            return pointee[0], (f"{scalar.kind} {scalar.name}", 0)
        located = self.types.locate(pointee[0], pointee[1] + k + off)
        if located is None or not located[1]:
            return None
        tid, key, pos = located
        return tid, (key, pos)

    def fp_key(self, base: Value, off: int) -> tuple[str, int] | None:
        located = self._location(base, off)
        if located is None or self.types.function_pointer(located[0]) is None:
            return None
        return located[1]

    def member_name(self, key: tuple[str, int]) -> str:
        name, pos = key
        for ctype in self.types.types.values():
            if ctype.key == name:
                for m_off, m_name, _t in ctype.members:
                    if m_off == pos and m_name:
                        return f"{name.split(' ', 1)[-1]}.{m_name}"
        return f"{name} +{pos}"

    # -- the whole program -----------------------------------------------------------
    def build(self) -> None:
        if self._built:
            return
        self._built = True
        self._scan_data()
        for func in self.image.functions:
            if func.address in self.types.subprograms:
                _Walk(self, func).run()
            else:
                self._untyped(func)
        self.facts.solve({a: len(s.params) for a, s in self.types.subprograms.items()
                          if s.params is not None and not s.variadic})
        self._solved = True

    def _untyped(self, func: Function) -> None:
        """Code without DWARF (libc, assembly) is not walked: its stores cannot be typed
        anyway. Every function address it holds (literal words, MOVW/MOVT pairs) and
        every value passed to it escapes."""
        for i in range(4):
            self.facts.edges[("a", func.address, i)].add(ESC)
        where = f"code without DWARF ({func.name})"
        for lo, hi in self.image.data_ranges(func.address, func.end):
            for address in range((lo + 3) & ~3, hi - 3, 4):
                target = self._function_word(self.image.word(address) or 0)
                if target is not None:
                    self.facts.source(ESC, target, where)
        data = self.image.read(func.address, func.size) or b""
        halves = [int.from_bytes(data[i:i + 2], "little") for i in range(0, len(data) - 1, 2)]
        low: dict[int, set[int]] = defaultdict(set)
        high: dict[int, set[int]] = defaultdict(set)
        for first, second in zip(halves, halves[1:], strict=False):
            # MOVW/MOVT T3 (ARM DDI 0403E A7.7.76/A7.7.79): imm16 = imm4:i:imm3:imm8.
            kind = first & 0xFBF0
            if kind in (0xF240, 0xF2C0) and not second & 0x8000:
                imm = ((first & 0xF) << 12) | (((first >> 10) & 1) << 11) | (
                    ((second >> 12) & 7) << 8) | (second & 0xFF)
                (low if kind == 0xF240 else high)[(second >> 8) & 0xF].add(imm)
        for reg, lows in low.items():
            for lo_half in lows:
                for hi_half in high.get(reg, ()):
                    target = self._function_word((hi_half << 16) | lo_half)
                    if target is not None:
                        self.facts.source(ESC, target, where)

    def _function_word(self, word: int) -> int | None:
        if self.image.family == "arm":
            return word & ~1 if word & 1 and (word & ~1) in self._starts else None
        return word if word in self._starts else None

    def _scan_data(self) -> None:
        """Function addresses in initialised data: typed members of DWARF variables feed
        their location, every other one escapes."""
        claimed: set[int] = set()
        types = self.types
        for var in types.variables:
            section = self.image.section_at(var.address)
            if section is None or section.executable or not section.data:
                continue
            for offset, tid in types.slots(var.type, limit=min(var.size, 1 << 16)):
                if types.function_pointer(tid) is None:
                    continue
                address = var.address + offset
                word = self.image.word(address)
                if word is None:
                    continue
                located = types.locate(var.type, offset)
                if located is None:
                    continue
                _t, key, pos = located
                node = ("k", (key, pos) if key else (f"variable {var.name}", pos))
                target = self._function_word(word)
                claimed.add(address)
                if target is not None:
                    self.facts.source(node, target, f"table {var.name}")
                elif word:
                    self.facts.unknown.setdefault(node, f"{var.name} holds 0x{word:08x}")
        for section in self.image.sections:
            if section.executable or not section.data:
                continue
            data = section.data
            # Start-up code calls these arrays' entries (crt0's __libc_init_array): they are
            # their own location, not an escape into every struct.
            array = section.name.split(".")[1] if section.name.count(".") >= 1 else ""
            own = ("k", (f"section .{array}", 0)) if array in (
                "init_array", "preinit_array", "fini_array", "ctors", "dtors") else None
            for offset in range(0, len(data) - 3, 4):
                address = section.address + offset
                if address in claimed or any(lo <= address < hi for lo, hi in self.exclude):
                    continue
                target = self._function_word(int.from_bytes(data[offset:offset + 4], "little"))
                if target is not None:
                    self.facts.source(own or ESC, target, f"word at 0x{address:08x}")

    # -- call sites ------------------------------------------------------------------
    def resolve(self, func: Function, site: int) -> Resolution | None:
        """Targets of the indirect call at `site` in `func`, or None (unresolved)."""
        self.build()
        if site not in self.sites:
            return None
        self.function = func.address
        value = self.sites[site]
        if value is None:
            return None
        targets: set[int] = set()
        hows: list[str] = []
        for member in _members(value):
            found = self._resolve_value(func, member)
            if found is None:
                return None
            targets.update(found[0])
            hows.append(found[1])
        return Resolution(tuple(sorted(targets)), "; ".join(dict.fromkeys(hows)))

    def candidates(self, func: Function, site: int) -> tuple[int, ...]:
        """For an unresolved call: address-taken functions of the pointer's type, when the
        type is known; else every address-taken function."""
        self.build()
        self.function = func.address
        value = self.sites.get(site)
        signature = self._signature_of(value) if value is not None else None
        if signature is None:
            return tuple(sorted(self.facts.taken))
        return tuple(sorted(f for f in self.facts.taken if self._matches(f, signature)))

    def _signature_of(self, value: Value):
        if value[0] == "m":
            located = self._location(value[1], value[2])
            if located is not None:
                fn = self.types.function_pointer(located[0])
                if fn is not None:
                    return self.types.signature(fn.params, fn.variadic)
        if value[0] == "p" and value[2] == 0:
            fn = self.types.function_pointer(self._param_type(self.function, value[1]))
            if fn is not None:
                return self.types.signature(fn.params, fn.variadic)
        return None

    def _matches(self, function: int, signature: tuple[str, ...]) -> bool:
        sub = self.types.subprograms.get(function)
        if sub is None or sub.params is None or sub.variadic:
            return True    # no DWARF type: it may be of any type
        mine = self.types.signature(sub.params, sub.variadic)
        return mine is None or self.types.compatible(mine, signature)

    def _resolve_value(self, func: Function, value: Value) -> tuple[set[int], str] | None:
        kind = value[0]
        if kind == "c":
            target = self._function_word(value[1]) if self.image.family == "arm" else None
            return ({target}, "constant") if target is not None else None
        if kind == "m" and value[3] == 0:
            base, k = _split(value[1])
            if base[0] == "c":
                address = base[1] + k + value[2]
                section = self.image.section_at(address)
                if section is not None and not section.writable and not section.executable:
                    word = self.image.word(address)
                    target = self._function_word(word) if word is not None else None
                    if target is not None:
                        return {target}, f"constant in {section.name}"
            located = self._location(value[1], value[2])
            if located is not None and self.types.is_volatile(located[0]):
                # C11 6.7.3p7: a volatile object may be changed in ways the program does
                # not show (a debugger, another core): its values cannot be listed.
                return None
            key = self.fp_key(value[1], value[2])
            if key is None:
                if located is not None:
                    return None     # a typed word that is no function pointer
                return None     # a pointer of unknown type: the call stays a finding
            signature = self._signature_of(value)
            return self._node_targets(("k", key), signature, f"member {self.member_name(key)}")
        if kind == "p" and value[2] == 0:
            signature = self._signature_of(value)
            node = ("a", func.address, value[1])
            sub = self.types.subprograms.get(func.address)
            if sub is None:
                return None
            return self._node_targets(node, signature, f"argument {value[1] + 1} of {func.name}")
        return None

    def _node_targets(self, node: tuple, signature, what: str) -> tuple[set[int], str] | None:
        facts = self.facts
        if node in facts.tainted:
            if signature is None:
                return None
            typed = {f for f in facts.taken if self._matches(f, signature)}
            return typed, f"type: {what} gets values not followed; address-taken " \
                          f"functions of its type"
        found = set(facts.values.get(node, set()))
        escaped = facts.values.get(ESC, set())
        extra = {f for f in escaped - found
                 if signature is not None and self._matches(f, signature)}
        if signature is None and escaped - found:
            extra = set(escaped - found)
        origins = sorted(set(self._origins(node).values()))
        kinds = (("table ", "tables "), ("store in ", "stores in "),
                 ("argument to ", "passed to "))
        parts = []
        for prefix, label in kinds:
            items = [o.removeprefix(prefix) for o in origins if o.startswith(prefix)]
            if items:
                parts.append(label + ", ".join(items[:6]) + (" ..." if len(items) > 6 else ""))
        if extra:
            parts.append(f"{len(extra)} escaped address-taken function(s) of its type")
        if not found and not extra:
            parts.append("never set to a function (the call cannot run)")
        how = [f"{what}: " + "; ".join(parts)]
        return found | extra, " ".join(how)

    def _origins(self, node: tuple) -> dict[int, str]:
        """Where the values of `node` were put in: table or store, following edges back."""
        back: dict[tuple, set[tuple]] = defaultdict(set)
        for src, dsts in self.facts.edges.items():
            for dst in dsts:
                back[dst].add(src)
        out: dict[int, str] = {}
        seen, todo = {node}, [node]
        while todo:
            here = todo.pop()
            for function, where in self.facts.sources.get(here, {}).items():
                out.setdefault(function, where)
            for src in back.get(here, ()):
                if src not in seen and src != ESC:
                    seen.add(src)
                    todo.append(src)
        return out


_REG_NAMES = {"r13": "sp", "r14": "lr", "r15": "pc", "ip": "r12", "sb": "r9", "sl": "r10",
              "fp": "r11"}


def _reg_name(reg: int) -> str:
    name = _CS.reg_name(reg) or ""
    return _REG_NAMES.get(name, name)


class _Shift:
    __slots__ = ("type", "value")

    def __init__(self, kind: int, value: int) -> None:
        self.type, self.value = kind, value


class _Mem:
    __slots__ = ("base", "index", "disp")

    def __init__(self, base: str, index: str, disp: int) -> None:
        self.base, self.index, self.disp = base, index, disp


class _Op:
    """One operand, registers by name (copied out of capstone once: its detail objects
    are slow to read)."""

    __slots__ = ("type", "reg", "imm", "mem", "shift")

    def __init__(self, op) -> None:
        self.type = op.type
        self.reg = _reg_name(op.reg) if op.type == A.ARM_OP_REG else ""
        self.imm = op.imm if op.type == A.ARM_OP_IMM else 0
        self.mem = _Mem(_reg_name(op.mem.base), _reg_name(op.mem.index) if op.mem.index else "",
                        op.mem.disp) if op.type == A.ARM_OP_MEM else None
        self.shift = _Shift(op.shift.type, op.shift.value)


class _Insn:
    __slots__ = ("address", "size", "id", "cc", "mnemonic", "operands", "writeback",
                 "post_index", "read", "written")

    def __init__(self, insn) -> None:
        self.address, self.size, self.id = insn.address, insn.size, insn.id
        self.cc, self.mnemonic = insn.cc, insn.mnemonic
        self.operands = [_Op(op) for op in insn.operands]
        self.writeback, self.post_index = insn.writeback, insn.post_index
        read, written = insn.regs_access()
        self.read = tuple(_reg_name(r) for r in read)
        self.written = tuple(_reg_name(r) for r in written)

    def regs_access(self) -> tuple[tuple[str, ...], tuple[str, ...]]:
        return self.read, self.written


class _Walk:
    """The data-flow pass over one function."""

    def __init__(self, owner: Pointers, func: Function) -> None:
        self.owner, self.func, self.image = owner, func, owner.image
        self.facts = owner.facts
        self.insns: list = []
        self.here = ""
        self.tables: dict[int, list[int]] = {}
        self.table_base: int | None = None

    # -- value helpers ---------------------------------------------------------------
    def relevant(self, value: Value) -> list[tuple]:
        """The flow nodes a value stands for, when it may be a function pointer."""
        out: list[tuple] = []
        for member in _members(value):
            kind = member[0]
            if kind == "d":
                out.extend(member[1])
                continue
            if kind == "c":
                target = self.owner._function_word(member[1])
                if target is not None:
                    out.append(("f", target))
            elif kind == "p" and member[2] == 0:
                sub = self.owner.types.subprograms.get(self.func.address)
                if sub is not None and sub.params is not None and not sub.variadic and \
                        member[1] >= len(sub.params):
                    continue     # a register the function does not take as a parameter
                tid = self.owner._param_type(self.func.address, member[1])
                size = self.owner.types.size_of(tid) if tid is not None else None
                if size is not None and size < 4:
                    continue     # a char or short cannot hold an address
                ctype = self.owner.types.resolve(tid) if tid is not None else None
                pointee = self.owner.types.resolve(self.owner.types.pointee(tid))
                if ctype is None or ctype.kind != "pointer" or pointee is None or \
                        pointee.kind == "function":
                    out.append(("a", self.func.address, member[1]))
            elif kind == "m" and member[3] == 0:
                key = self.owner.fp_key(member[1], member[2])
                if key is not None:
                    out.append(("k", key))
        return out

    def flow(self, value: Value | None, node: tuple, where: str) -> None:
        """`value` is put into `node`."""
        for member in _members(value):
            kind = member[0]
            found = self.relevant(member)
            if found:
                for item in found:
                    if item[0] == "f":
                        self.facts.source(node, item[1], where)
                    else:
                        self.facts.edges[item].add(node)
            elif not (kind == "c" and member[1] == 0) and node != ESC:
                self.facts.unknown.setdefault(node, where)

    def escape(self, value: Value | None, why: str) -> None:
        for item in self.relevant(value) if value is not None else ():
            if item[0] == "f":
                self.facts.source(ESC, item[1], f"{why} in {self.func.name}")
            else:
                self.facts.edges[item].add(ESC)

    # -- decoding ------------------------------------------------------------------
    def _decode(self) -> None:
        for lo, hi in self.image.code_spans(self.func):
            data = self.image.read(lo, hi - lo)
            if data is None:
                continue
            address = lo
            while address < hi:
                count = 0
                for insn in _CS.disasm(data[address - lo:], address):
                    self.insns.append(_Insn(insn))
                    address = insn.address + insn.size
                    count += 1
                if address < hi:
                    # Undecodable bytes: any function address in them escapes (below).
                    address += 2
                if not count and address >= hi:
                    break
        # Literal words in the function: the walk sees the loads of those it reads; the
        # others (unreached code) escape.
        self.literals: set[int] = set()
        for lo, hi in self.image.data_ranges(self.func.address, self.func.end):
            for address in range((lo + 3) & ~3, hi - 3, 4):
                word = self.image.word(address)
                if word is not None and self.owner._function_word(word) is not None:
                    self.literals.add(address)

    def run(self) -> None:
        self.owner.function = self.func.address
        self._decode()
        if not self.insns:
            return
        index_of = {insn.address: i for i, insn in enumerate(self.insns)}
        leaders = {self.insns[0].address}
        for i, insn in enumerate(self.insns):
            for target in self._branch_targets(insn):
                if target in index_of:
                    leaders.add(target)
            if self._ends_block(insn) and i + 1 < len(self.insns):
                leaders.add(self.insns[i + 1].address)
            if insn.id in (A.ARM_INS_TBB, A.ARM_INS_TBH):
                leaders.update(t for t in self._table(insn) if t in index_of)
        self.leaders = leaders
        entry = _State({"r0": ("p", 0, 0), "r1": ("p", 1, 0), "r2": ("p", 2, 0),
                        "r3": ("p", 3, 0), "sp": ("s", 0)},
                       {4 * (i - 4): ("p", i, 0)
                        for i in range(4, self.owner._param_count(self.func.address))})
        states: dict[int, _State] = {self.insns[0].address: entry}
        visits: dict[int, int] = defaultdict(int)
        todo = [self.insns[0].address]
        self.seen_literals: set[int] = set()
        done_blocks: set[int] = set()
        while todo:
            start = todo.pop()
            visits[start] += 1
            state = states[start].copy()
            done_blocks.add(start)
            for succ, out in self._block(index_of[start], state, index_of):
                if succ not in index_of:
                    continue
                if succ not in states:
                    states[succ] = out
                    todo.append(succ)
                    continue
                merged, changed = self._merge(states[succ], out, visits[succ] >= MAX_VISITS)
                if changed:
                    states[succ] = merged
                    if succ not in todo:
                        todo.append(succ)
        # Blocks no path reached (after TBB/TBH tables, computed jumps): read from an
        # unknown state, so what they do with function addresses is still seen.
        for start in sorted(leaders - done_blocks):
            if start in index_of:
                state = _State({}, {})
                for _succ, _out in self._block(index_of[start], state, index_of, final=True):
                    pass
        for address in self.literals - self.seen_literals:
            target = self.owner._function_word(self.image.word(address) or 0)
            if target is not None:
                self.facts.source(ESC, target, f"literal in {self.func.name}")

    def _merge(self, old: _State, new: _State, give_up: bool) -> tuple[_State, bool]:
        regs: dict[str, Value] = {}
        changed = False
        for reg in set(old.regs) | set(new.regs):
            a, b = old.regs.get(reg), new.regs.get(reg)
            joined = self._widen(_join(a, b), give_up)
            if joined is not None and joined != UNKNOWN and not (
                    joined[0] == "j" and all(m == UNKNOWN for m in joined[1])):
                regs[reg] = joined
            if joined != a and not (joined is None and a is None):
                changed = True
        slots: dict[int, Value] = {}
        for slot in set(old.slots) | set(new.slots):
            a, b = old.slots.get(slot), new.slots.get(slot)
            joined = self._widen(_join(a, b), give_up)
            if joined is not None and joined != UNKNOWN:
                slots[slot] = joined
            if joined != a and not (joined is None and a is None):
                changed = True
        return _State(regs, slots), changed

    def _widen(self, joined: Value | None, give_up: bool) -> Value | None:
        joined = self._induction(joined)
        return self._grow(joined, give_up)

    def _induction(self, joined: Value | None) -> Value | None:
        """Several data addresses in one register at a join are a pointer a loop steps
        through memory (start-up copies, memset loops): given up, so its stores are
        untyped, never a wrong member. Function addresses stay."""
        if joined is None or joined[0] != "j":
            return joined
        data = [m for m in joined[1] if m[0] == "c" and self.owner._function_word(m[1]) is None]
        if len(data) < 2:
            return joined
        rest = frozenset(m for m in joined[1] if m not in data) | {UNKNOWN}
        kept = frozenset(m for m in rest if m != UNKNOWN)
        return ("j", rest) if kept else None

    def _grow(self, joined: Value | None, give_up: bool) -> Value | None:
        """A join that grows too large (or a loop that keeps changing it) keeps only the
        values that may be function pointers, which are finitely many; the rest becomes
        unknown. Nothing that matters is dropped, so the loop ends and stays sound."""
        if joined is None or joined[0] != "j" or (not give_up and len(joined[1]) <= MAX_JOIN):
            return joined
        kept = frozenset(m for m in joined[1] if m != UNKNOWN and self.relevant(m))
        if not kept:
            return None
        if len(kept) == len(joined[1]):
            return joined
        return ("j", kept | {UNKNOWN})

    def _branch_targets(self, insn) -> list[int]:
        if insn.id in (A.ARM_INS_B, A.ARM_INS_CBZ, A.ARM_INS_CBNZ):
            imm = [op.imm for op in insn.operands if op.type == A.ARM_OP_IMM]
            return imm[-1:]
        return []

    def _table(self, insn) -> list[int]:
        """Where a TBB/TBH [pc, rN] can go: its table follows it, sized by the $d span
        the assembler marks it with or by the bound of the last CMP on the index
        (ARM DDI 0403E A7.7.185)."""
        if insn.address in self.tables:
            return self.tables[insn.address]
        ops = insn.operands
        out: list[int] = []
        mem = ops[0].mem if ops and ops[0].type == A.ARM_OP_MEM else None
        if insn.id == A.ARM_INS_LDR and mem is None:
            mem = next((o.mem for o in ops if o.type == A.ARM_OP_MEM), None)
            if mem is not None and mem.index and self.table_base is not None:
                # LDR PC, [Rn, Rm, LSL #2] with Rn = ADR of a table of code addresses.
                count = self._bound(insn, mem.index)
                for i in range(count or 0):
                    word = self.image.word(self.table_base + 4 * i)
                    if word is None or not self.func.address <= (word & ~1) < self.func.end:
                        out = []
                        break
                    out.append(word & ~1)
            self.tables[insn.address] = out
            return out
        if mem is not None and self._name(mem.base) == "pc" and mem.index:
            start = insn.address + 4
            width = 1 if insn.id == A.ARM_INS_TBB else 2
            count = None
            spans = [hi - lo for lo, hi in self.image.data_ranges(start, self.func.end)
                     if lo == start]
            count = self._bound(insn, mem.index)
            if count is None and spans:
                count = spans[0] // width
            if count is not None:
                for i in range(count):
                    raw = self.image.read(start + i * width, width)
                    if raw is None:
                        return []
                    out.append(start + 2 * int.from_bytes(raw, "little"))
        self.tables[insn.address] = out
        return out

    def _bound(self, insn, index_reg: str) -> int | None:
        """Entries of a jump table: the immediate of the last CMP on its index, plus one."""
        position = next(i for i, x in enumerate(self.insns) if x.address == insn.address)
        for prev in reversed(self.insns[max(0, position - 6):position]):
            if prev.id == A.ARM_INS_CMP and prev.operands[0].reg == index_reg and \
                    prev.operands[1].type == A.ARM_OP_IMM:
                return prev.operands[1].imm + 1
        return None

    def _ends_block(self, insn) -> bool:
        if insn.id in (A.ARM_INS_B, A.ARM_INS_CBZ, A.ARM_INS_CBNZ, A.ARM_INS_BX,
                       A.ARM_INS_TBB, A.ARM_INS_TBH, A.ARM_INS_IT):
            return insn.id != A.ARM_INS_IT
        _r, written = insn.regs_access()
        return "pc" in written and insn.id not in (A.ARM_INS_BL, A.ARM_INS_BLX)

    # -- one block -------------------------------------------------------------------
    def _block(self, index: int, state: _State, index_of, final: bool = False):
        insns = self.insns
        while index < len(insns):
            insn = insns[index]
            self.here = f"0x{insn.address:08x}"
            if insn.id == A.ARM_INS_IT and self._it_block(index, state):
                index += len(insn.mnemonic) - 1     # the IT's instructions, done
                nxt = insns[index + 1].address if index + 1 < len(insns) else None
                if nxt is None:
                    return
                if nxt in self.leaders:
                    yield nxt, state
                    return
                index += 1
                continue
            conditional = insn.cc not in (A.ARM_CC_AL, A.ARM_CC_INVALID) and \
                insn.id not in (A.ARM_INS_B,)
            if conditional:
                before = state.copy()
                outcome = self._step(insn, state)
                merged, _ = self._merge(before, state, False)
                state.regs, state.slots = merged.regs, merged.slots
                if outcome == "end":   # a conditional return or jump: the other path goes on
                    outcome = None
            else:
                outcome = self._step(insn, state)
            nxt = insns[index + 1].address if index + 1 < len(insns) else None
            if outcome == "end":
                return
            if insn.id in (A.ARM_INS_B, A.ARM_INS_CBZ, A.ARM_INS_CBNZ):
                targets = self._branch_targets(insn)
                inside = [t for t in targets if self.func.address <= t < self.func.end]
                outside = [t for t in targets if t not in inside]
                for target in outside:   # a tail call: its arguments go to the callee
                    self._call(state, target, tail=True)
                for target in inside:
                    yield target, state.copy()
                unconditional = insn.id == A.ARM_INS_B and insn.cc in (A.ARM_CC_AL,
                                                                       A.ARM_CC_INVALID)
                if unconditional:
                    return
                if nxt is not None:
                    yield nxt, state
                return
            if outcome == "table":
                for target in self.tables.get(insn.address, ()):
                    yield target, state.copy()
                return
            if outcome == "lost":
                for value in (*state.regs.values(), *state.slots.values()):
                    self.escape(value, "a computed jump")
                return
            if nxt is None:
                for value in (*state.regs.values(), *state.slots.values()):
                    self.escape(value, "the end of the function")
                return
            if nxt in self.leaders:
                yield nxt, state
                return
            index += 1

    def _it_block(self, index: int, state: _State) -> bool:
        """ITE-style blocks as two paths: the T instructions run on one, the E ones on the
        other (ARM DDI 0403E A7.7.38), and the paths meet after the block. Only for blocks
        without control flow; False leaves them to the per-instruction join."""
        letters = self.insns[index].mnemonic[1:]
        body = self.insns[index + 1:index + 1 + len(letters)]
        if len(body) != len(letters) or any(
                i.id in (A.ARM_INS_B, A.ARM_INS_BL, A.ARM_INS_BLX, A.ARM_INS_BX,
                         A.ARM_INS_CBZ, A.ARM_INS_CBNZ, A.ARM_INS_TBB, A.ARM_INS_TBH)
                or "pc" in i.written or i.address in self.leaders
                for i in body):
            return False
        then, other = state.copy(), state.copy()
        for letter, insn in zip(letters, body, strict=True):
            self._step(insn, then if letter == "t" else other)
        merged, _ = self._merge(then, other, False)
        state.regs, state.slots = merged.regs, merged.slots
        return True

    def reg(self, state: _State, reg: int) -> Value | None:
        name = self._name(reg)
        if name == "pc":
            return None
        return state.regs.get(name)

    def _name(self, reg: str) -> str:
        return reg    # operands hold register names already (_Insn)

    def set(self, state: _State, reg: str, value: Value | None) -> None:
        if value is None or value == UNKNOWN:
            state.regs.pop(reg, None)
        else:
            state.regs[reg] = value

    def _call(self, state: _State, target: int, tail: bool = False) -> None:
        callee = self.image.function_at(target)
        if callee is None or callee.address != target:
            for reg in _ARGS:
                self.escape(state.regs.get(reg), "a call outside every function")
            return
        sp = state.regs.get("sp")
        typed = callee.address in self.owner.types.subprograms
        if not typed and sp is not None and sp[0] == "s":
            for i in range(4):   # what code without DWARF may take from the stack
                self.escape(state.slots.get(sp[1] + 4 * i), "a stack argument")
        for i in range(self.owner._param_count(callee.address)):
            if i < 4:
                value = state.regs.get(_ARGS[i])
            elif sp is not None and sp[0] == "s":
                value = state.slots.get(sp[1] + 4 * (i - 4))
            else:
                value = None
            if value is not None:
                self.flow(value, ("a", callee.address, i),
                          f"argument to {callee.name} in {self.func.name}")
            else:
                self.facts.unknown.setdefault(("a", callee.address, i),
                                              f"argument from {self.func.name}")
        exposed = [v[1] for r in _ARGS if (v := state.regs.get(r)) is not None and v[0] == "s"]
        if exposed:
            self._expose(state, min(exposed))

    def _expose(self, state: _State, lowest: int | None = None) -> None:
        """A stack address went out (`&len` passed on): the code it reaches may read and
        write the object there and, as far as C lets it, nothing below it; the slots from
        that address up escape and are forgotten."""
        for slot in [s for s in state.slots if lowest is None or s >= lowest]:
            self.escape(state.slots.pop(slot), "a stack slot whose address is passed on")

    def _step(self, insn, state: _State) -> str | None:
        """Apply one instruction; "end" when control leaves the function, "lost" when it
        goes somewhere the pass cannot follow."""
        iid = insn.id
        ops = insn.operands
        regs = state.regs
        if iid == A.ARM_INS_BL or (iid == A.ARM_INS_BLX and ops and ops[0].type == A.ARM_OP_IMM):
            self._call(state, ops[0].imm & ~1)
            sub = self.owner.types.subprograms.get(ops[0].imm & ~1)
            for reg in _CLOBBERED:
                regs.pop(reg, None)
            if sub is not None:
                regs["r0"] = ("r", ops[0].imm & ~1, 0)
            return None
        if iid in (A.ARM_INS_BLX, A.ARM_INS_BX) or (
                iid == A.ARM_INS_MOV and ops and ops[0].type == A.ARM_OP_REG
                and self._name(ops[0].reg) == "pc"):
            source = ops[-1].reg
            name = self._name(source)
            if iid == A.ARM_INS_BX and name == "lr":
                self._return(state)
                return "end"
            self._indirect(insn.address, state, state.regs.get(name), name)
            if iid == A.ARM_INS_BLX:
                for reg in _CLOBBERED:
                    regs.pop(reg, None)
                return None
            return "end"
        if iid in (A.ARM_INS_TBB, A.ARM_INS_TBH):
            return "table" if self._table(insn) else "lost"
        if iid in (A.ARM_INS_PUSH,) or (iid == A.ARM_INS_STMDB and ops
                                        and self._name(ops[0].reg) == "sp" and insn.writeback):
            names = [self._name(o.reg) for o in ops if o.type == A.ARM_OP_REG]
            if iid == A.ARM_INS_STMDB:
                names = names[1:]
            sp = regs.get("sp")
            if sp is None or sp[0] != "s":
                for n in names:
                    self.escape(regs.get(n), "a store to the stack")
                regs.pop("sp", None)
                return None
            low = sp[1] - 4 * len(names)
            for i, n in enumerate(names):
                self._slot_store(state, low + 4 * i, regs.get(n), 4)
            regs["sp"] = ("s", low)
            return None
        if iid == A.ARM_INS_POP or (iid in (A.ARM_INS_LDM,) and ops
                                    and self._name(ops[0].reg) == "sp" and insn.writeback):
            names = [self._name(o.reg) for o in ops if o.type == A.ARM_OP_REG]
            if iid == A.ARM_INS_LDM:
                names = names[1:]
            sp = regs.get("sp")
            for i, n in enumerate(names):
                value = state.slots.get(sp[1] + 4 * i) if sp is not None and sp[0] == "s" \
                    else None
                if n != "pc":
                    self.set(state, n, value)
            if sp is not None and sp[0] == "s":
                regs["sp"] = ("s", sp[1] + 4 * len(names))
            if "pc" in names:
                self._return(state)
                return "end"
            return None
        if iid in _LOADS or iid == A.ARM_INS_LDRD:
            return self._load(insn, state)
        if iid in _STORES or iid == A.ARM_INS_STRD:
            self._store(insn, state)
            return None
        if iid in (A.ARM_INS_LDM, A.ARM_INS_STM, A.ARM_INS_STMDB, A.ARM_INS_LDMDB):
            base = self._name(ops[0].reg)
            names = [self._name(o.reg) for o in ops[1:] if o.type == A.ARM_OP_REG]
            value = regs.get(base)
            down = iid in (A.ARM_INS_STMDB, A.ARM_INS_LDMDB)
            start = -4 * len(names) if down else 0
            for i, n in enumerate(names):
                if iid in (A.ARM_INS_LDM, A.ARM_INS_LDMDB):
                    loaded = self._loaded(state, value, start + 4 * i)
                    if n == "pc":
                        self._indirect(insn.address, state, loaded)
                        return "end"
                    self.set(state, n, loaded)
                else:
                    self._memory_store(state, value, start + 4 * i, regs.get(n), 4)
            if insn.writeback and base not in names:
                self.set(state, base, _plus(value, start if down else 4 * len(names)))
            return None
        if iid == A.ARM_INS_MOV and len(ops) == 2:
            dest = self._name(ops[0].reg)
            if ops[1].type == A.ARM_OP_IMM:
                self.set(state, dest, ("c", ops[1].imm & 0xFFFFFFFF))
            elif ops[1].type == A.ARM_OP_REG and ops[1].shift.type == 0:
                self.set(state, dest, regs.get(self._name(ops[1].reg)))
            else:
                self._other(insn, state)
            return None
        if iid == A.ARM_INS_MOVT and len(ops) == 2:
            dest = self._name(ops[0].reg)
            low = regs.get(dest)
            if low is not None and low[0] == "c":
                self.set(state, dest, ("c", (low[1] & 0xFFFF) | (ops[1].imm << 16)))
            else:
                self.set(state, dest, None)
            return None
        if iid == A.ARM_INS_ADR:
            self.set(state, self._name(ops[0].reg),
                     ("c", ((insn.address + 4) & ~3) + ops[1].imm))
            return None
        if iid in (A.ARM_INS_ADD, A.ARM_INS_ADDW, A.ARM_INS_SUB, A.ARM_INS_SUBW):
            self._add(insn, state)
            return None
        if iid in _COMPARES:
            return None
        self._other(insn, state)
        return None

    def _other(self, insn, state: _State) -> None:
        """An instruction the pass does not model: what it writes becomes unknown, except
        that arithmetic on a function address into one register (`pxCode & ~1`) keeps
        standing for that address ("d"); any other read of one escapes."""
        read, written = insn.regs_access()
        items = frozenset(item for reg in read
                          for item in self.relevant(state.regs.get(self._name(reg)) or UNKNOWN))
        dests = [r for r in written if r not in ("sp", "pc", "itstate")]
        if items and len(dests) == 1 and "sp" not in written and "pc" not in written:
            state.regs[dests[0]] = ("d", items)
            return
        for reg in read:
            self.escape(state.regs.get(self._name(reg)), f"{insn.mnemonic} at {self.here}")
        for reg in written:
            name = self._name(reg)
            if name == "sp":
                for value in state.slots.values():
                    self.escape(value, "a stack slot lost")
                state.slots.clear()
            state.regs.pop(name, None)

    def _add(self, insn, state: _State) -> None:
        ops = insn.operands
        regs = state.regs
        sub = insn.id in (A.ARM_INS_SUB, A.ARM_INS_SUBW)
        dest = self._name(ops[0].reg)
        sources = ops[1:] if len(ops) == 3 else ops[:2] if len(ops) == 2 else []
        if len(sources) != 2 or sources[0].type != A.ARM_OP_REG:
            self._other(insn, state)
            return
        first = self._name(sources[0].reg)
        left = ("c", (insn.address + 4) & ~3) if first == "pc" else regs.get(first)
        if sources[1].type == A.ARM_OP_IMM:
            amount = -sources[1].imm if sub else sources[1].imm
            # An unknown number plus a constant: an array index with a known part.
            result = _plus(left, amount) if left is not None else ("n", amount)
            items = frozenset(self.relevant(left)) if left is not None else frozenset()
            if items and dest not in ("sp", "pc"):
                result = ("d", items)    # a function address moved by a constant
            if dest == "sp" and (result is None or result[0] != "s"):
                self._other(insn, state)
                return
            self.set(state, dest, result)
            return
        right = regs.get(self._name(sources[1].reg))
        if dest in ("sp", "pc"):
            self._other(insn, state)
            return
        if not sub and left is not None and left[0] == "c" and right is not None and \
                right[0] == "c" and sources[1].shift.type == 0 and \
                self.owner._function_word(left[1]) is None and \
                self.owner._function_word(right[1]) is None:
            self.set(state, dest, ("c", (left[1] + right[1]) & 0xFFFFFFFF))
            return
        # Base + index: the base is the operand that looks most like a data pointer.
        pointer, index, shift = left, right, sources[1].shift.value
        if sources[1].shift.type == 0 and self._pointer_rank(right) > self._pointer_rank(left):
            pointer, index, shift = right, left, 0
        if not sub and self._pointer_rank(pointer) >= 2:
            self.escape(index, f"an index at {self.here}")   # a number, not a pointer
            self.set(state, dest, ("x", pointer, _constant_part(index) << shift))
            return
        items = frozenset(i for v in (left, right) if v is not None for i in self.relevant(v))
        self.set(state, dest, ("d", items) if items else None)

    def _pointer_rank(self, value: Value | None) -> int:
        """How surely a value is a data pointer: 3 a data address, 2 a loaded or derived
        pointer, 1 a parameter, 0 a number or a function address."""
        if value is None:
            return 0
        kind = value[0]
        if kind == "c":
            return 0 if self.owner._function_word(value[1]) is not None else 3
        if kind in ("m", "x", "r", "j"):
            return 2
        if kind == "p":
            tid = self.owner._param_type(self.func.address, value[1])
            return 2 if self.owner.types.pointee(tid) is not None else 1
        return 0

    def _address(self, state: _State, op) -> tuple[Value | None, int]:
        """(base value, displacement) of a memory operand; base None when unknown."""
        base = self._name(op.mem.base)
        if base == "pc":
            return None, 0
        value = state.regs.get(base)
        if op.mem.index:
            extra = _constant_part(state.regs.get(op.mem.index)) << op.shift.value
            return (("x", value, extra + op.mem.disp) if value is not None and value[0] != "s"
                    else None), 0
        return value, op.mem.disp

    def _loaded(self, state: _State, base: Value | None, off: int, size: int = 4) -> Value | None:
        if base is None:
            return None
        if base[0] == "s":
            return state.slots.get(base[1] + off) if size == 4 else None
        if base[0] == "j":
            found = {self._loaded(state, m, off, size) if m != UNKNOWN else None
                     for m in base[1]}
            return found.pop() if len(found) == 1 else None
        if size != 4:
            return None
        head, k = _split(base)
        if head[0] == "c":
            # A word of flash (a const table, the .data image start-up code copies) is
            # what it holds.
            address = (head[1] + k + off) & 0xFFFFFFFF
            section = self.image.section_at(address)
            if section is not None and not section.writable and section.data:
                word = self.image.word(address)
                return ("c", word) if word is not None else None
        return ("m", head, k + off, 0)

    def _load(self, insn, state: _State) -> str | None:
        ops = insn.operands
        size = _LOADS.get(insn.id, 4)
        mem = next(o for o in ops if o.type == A.ARM_OP_MEM)
        dests = [self._name(o.reg) for o in ops if o.type == A.ARM_OP_REG]
        if self._name(mem.mem.base) == "pc" and not mem.mem.index:
            literal = ((insn.address + 4) & ~3) + mem.mem.disp
            self.seen_literals.add(literal)
            values = [self.image.word(literal + 4 * i) for i in range(len(dests))]
            for dest, word in zip(dests, values, strict=False):
                value = ("c", word) if word is not None and size == 4 else None
                if dest == "pc":
                    self._indirect(insn.address, state, value)
                    return "end"
                self.set(state, dest, value)
            return None
        base_reg = self._name(mem.mem.base)
        if dests == ["pc"] and mem.mem.index:
            table = state.regs.get(base_reg)
            self.table_base = table[1] if table is not None and table[0] == "c" else None
            self.tables.pop(insn.address, None)
            if self._table(insn):
                return "table"
        base, disp = self._address(state, mem)
        post = insn.post_index
        offset = 0 if post else disp
        for i, dest in enumerate(dests):
            loaded = self._loaded(state, base, offset + 4 * i, size)
            if dest == "pc":
                if base_reg == "sp" and post:
                    self._return(state)
                else:
                    self._indirect(insn.address, state, loaded)
                return "end"
            self.set(state, dest, loaded)
        if insn.writeback and base_reg not in dests:
            step = next((o.imm for o in ops if o.type == A.ARM_OP_IMM), 0) if post else disp
            self.set(state, base_reg, _plus(state.regs.get(base_reg), step)
                     if not mem.mem.index else None)
        return None

    def _store(self, insn, state: _State) -> None:
        ops = insn.operands
        size = _STORES.get(insn.id, 4)
        mem = next(o for o in ops if o.type == A.ARM_OP_MEM)
        sources = [self._name(o.reg) for o in ops if o.type == A.ARM_OP_REG]
        base_reg = self._name(mem.mem.base)
        base, disp = self._address(state, mem)
        post = insn.post_index
        offset = 0 if post else disp
        for i, src in enumerate(sources):
            self._memory_store(state, base, offset + 4 * i, state.regs.get(src), size)
        if insn.writeback:
            step = next((o.imm for o in ops if o.type == A.ARM_OP_IMM), 0) if post else disp
            self.set(state, base_reg, _plus(state.regs.get(base_reg), step)
                     if not mem.mem.index else None)

    def _slot_store(self, state: _State, slot: int, value: Value | None, size: int) -> None:
        for other in [s for s in state.slots if s < slot + size and slot < s + 4]:
            old = state.slots.pop(other)
            if other != slot or size != 4:
                self.escape(old, "a partly overwritten stack slot")
        if size == 4 and value is not None and value != UNKNOWN:
            state.slots[slot] = value
        elif size != 4:
            self.escape(value, "a narrow store")

    def _memory_store(self, state: _State, base: Value | None, off: int, value: Value | None,
                      size: int) -> None:
        if base is not None and base[0] == "s":
            self._slot_store(state, base[1] + off, value, size)
            return
        if base is not None and base[0] == "j":
            for member in base[1]:
                self._memory_store(state, None if member == UNKNOWN else member, off, value, size)
            return
        stacked = [m[1] for m in _members(value) if m[0] == "s"]
        if base is not None and stacked:
            self._expose(state, min(stacked))   # a stack address is stored somewhere
        located = self.owner._location(base, off) if base is not None else None
        if located is not None and size == 4 and \
                self.owner.types.function_pointer(located[0]) is not None:
            self.flow(value, ("k", located[1]), f"store in {self.func.name}")
        elif located is None:
            self.escape(value, f"a store at {self.here}")
        elif size == 4 and self.owner.types.pointee(located[0]) is None:
            ctype = self.owner.types.resolve(located[0])
            if ctype is not None and ctype.kind == "pointer":
                for member in _members(value):
                    if member[0] == "c" and member[1] == 0:
                        continue     # NULL
                    pointee = self.owner._pointee(member) if member != UNKNOWN else None
                    self.owner.void_types[located[1]].add(
                        pointee[0] if pointee is not None and pointee[1] == 0 else None)
        # A store into a typed location that is no function pointer (an integer, a void *,
        # a task's stack of StackType_t) is read back only as that type: loaded and put
        # into a function-pointer member it taints that member; loaded and called, the
        # call is not typed and stays unresolved. So it is no escape (C11 6.5p7).

    def _indirect(self, site: int, state: _State, target: Value | None,
                  through: str = "") -> None:
        self.owner.sites[site] = target
        self.owner.site_function[site] = self.func.address
        for reg in _ARGS:
            if reg != through:   # the register that holds the target is called, not passed
                self.escape(state.regs.get(reg), "an argument of an indirect call")

    def _return(self, state: _State) -> None:
        sub = self.owner.types.subprograms.get(self.func.address)
        if sub is None or sub.returns is not None:
            self.escape(state.regs.get("r0"), "a return value")


def pointers_for(image: Image, exclude: tuple[tuple[int, int], ...] = ()) -> Pointers | None:
    """The resolver for `image`, or None when it has no DWARF types (or is not ARM)."""
    if image.family != "arm":
        return None
    types = load_dwarf_types(image)
    if types is None or not types.types:
        return None
    return Pointers(image, types, exclude)

