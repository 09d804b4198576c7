"""Each interrupt's preemption priority, read from the code that sets it (issue 12 item 7).

Handlers of one preemption priority never nest: the stack holds at most one handler per
priority (stacks.py). Where the priorities come from, in order of trust:

1. `[harden.priorities]` in firmware.toml (the project says so; overrides the code).
2. Constant writes in the code reachable from reset or a handler:
   - Cortex-M: `HAL_NVIC_SetPriority(IRQn, preempt, sub)`, CMSIS `NVIC_SetPriority(IRQn,
     prio)` (also its -O0 out-of-line `__NVIC_SetPriority`, with `NVIC_EncodePriority`),
     and the stores they inline to: a byte (or halfword, or a read-modify-write word on
     ARMv6-M, which has no byte access to NVIC_IPR: ARMv6-M ARM B3.4.7) to NVIC_IPR
     0xE000E400 + n for IRQ n, or SHPR1-3 0xE000ED18 + (exception - 4) for system handlers.
     The grouping is the AIRCR PRIGROUP field (0xE000ED0C bits 10:8, written with
     VECTKEY 0x05FA) set by `NVIC_SetPriorityGrouping`/`HAL_NVIC_SetPriorityGrouping` or
     a constant store; it is 0 at reset (ARMv7-M ARM B3.2.6).
   - GD32VF103 ECLIC: `ECLIC_Register_IRQ`/`ECLIC_SetLevelIRQ` (Nuclei SDK) and
     `eclic_irq_enable`/`eclic_set_irq_lvl_abs` (GD32VF103 firmware library) with constant
     arguments, or byte stores to clicintctl[n] = 0xD2001000 + 4n + 3 read with nlbits from
     cliccfg 0xD2000000 bits 4:1 (Nuclei ECLIC spec, "cliccfg", "clicintctl").
3. Otherwise the reset value: 0 on Cortex-M (the most urgent configurable priority: such a
   handler is preempted only by NMI and HardFault, and never by another handler left at
   0), level 0 on ECLIC. It says so in a note.

What a level means (ARMv7-M ARM B1.5.4): the priority byte's bits above PRIGROUP are the
group priority; an exception preempts only when its group priority is numerically LOWER
than the running one; equal never preempts, whatever the subpriority. `level` is that group
priority in the units the code writes (HAL's PreemptPriority on an STM32 with 4 bits and
PRIGROUP = 3: 0..15). ECLIC (Nuclei spec, "interrupt preemption"): a HIGHER level preempts
a lower one, and only when the running handler has re-enabled interrupts (the Nuclei SDK's
common `irq_entry` does; a vectored handler does not unless written to).

A value the code computes at run time, or two different values for one interrupt, gives
`level = None`: that handler is assumed to nest with every other, and the note says why.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from fwharden.board_profiles import Profile
from fwharden.harden.analysis.callgraph import CallGraph, Edge
from fwharden.harden.analysis.policy import HardenPolicy
from fwharden.harden.analysis.roots import RUNTIME_VECTOR, Root
from fwharden.harden.elf.image import Image
from fwharden.harden.isa import installs
from fwharden.harden.isa.priority_writes import PriorityScan, may_write, scan_writes

# Cortex-M exception numbers with a fixed priority above every configurable one (B1.5.4).
ARM_FIXED = {2: -2, 3: -1}    # NMI, HardFault (Reset is -3 but is the thread, not a root)
NVIC_IPR = 0xE000E400
SHPR1 = 0xE000ED18
AIRCR = 0xE000ED0C
ECLIC_CFG = 0xD2000000
ECLIC_INTCTL = 0xD2001000

# Setter functions whose callers give the values (argument indexes). The stores inside
# them (to a computed address) are what the call means and are not read themselves.
HAL_SETTERS = {"HAL_NVIC_SetPriority": (0, 1, 2)}                   # IRQn, preempt, sub
CMSIS_SETTERS = {"NVIC_SetPriority": (0, 1), "__NVIC_SetPriority": (0, 1)}   # IRQn, prio
GROUPING_SETTERS = {"HAL_NVIC_SetPriorityGrouping": 0, "NVIC_SetPriorityGrouping": 0,
                    "__NVIC_SetPriorityGrouping": 0}
# ECLIC: name -> (IRQ argument, level argument); the level is absolute (0 .. 2^nlbits - 1).
ECLIC_SETTERS = {"ECLIC_Register_IRQ": (0, 3), "ECLIC_SetLevelIRQ": (0, 1),
                 "__ECLIC_SetLevelIRQ": (0, 1), "eclic_irq_enable": (0, 1),
                 "eclic_set_irq_lvl_abs": (0, 1)}
# ECLIC nlbits: name -> argument holding nlbits itself.
ECLIC_NLBITS_SETTERS = {"ECLIC_SetCfgNlbits": 0, "__ECLIC_SetCfgNlbits": 0,
                        "eclic_set_nlbits": 0, "eclic_priority_group_set": 0}
SETTER_NAMES = frozenset({*HAL_SETTERS, *CMSIS_SETTERS, *GROUPING_SETTERS, *ECLIC_SETTERS,
                          *ECLIC_NLBITS_SETTERS, "NVIC_EncodePriority", "__NVIC_EncodePriority"})


@dataclass(frozen=True)
class Priority:
    """One root's preemption priority and where it came from.

    level: the group (preemption) priority, None when the code does not fix it.
    origin: "firmware.toml", "reset value", "fixed" (NMI, HardFault), or how the code sets
    it ("HAL_NVIC_SetPriority(6, 5, 0) in MX_GPIO_Init").
    site: the address of the call or store that sets it, when there is one.
    scheme: "arm" (lower level preempts), "eclic" (higher level preempts), "thread".
    note: why the level is unknown or what was assumed, for the report.
    """

    level: int | None
    origin: str
    site: int | None = None
    scheme: str = "arm"
    note: str = ""

    def describe(self) -> str:
        shown = "unknown" if self.level is None else str(self.level)
        where = f" at 0x{self.site:08x}" if self.site is not None else ""
        return f"{shown} ({self.origin}{where}{'; ' + self.note if self.note else ''})"


# The code outside every handler: preempted by every enabled interrupt.
THREAD = Priority(None, "thread mode", None, "thread")


def can_preempt(a: Priority, b: Priority) -> bool:
    """Whether handler `a` can interrupt `b` (a handler, or THREAD) while `b` runs.

    Unknown is never proof of safety: with either level unknown the answer is True. Equal
    levels never preempt (ARMv7-M ARM B1.5.4; Nuclei ECLIC spec), the thread never
    preempts a handler. Masking (PRIMASK, BASEPRI, mstatus.MIE) is not modelled here."""
    if a.scheme == "thread":
        return False
    if b.scheme == "thread":
        return True
    if a.level is None or b.level is None:
        return True
    if a.scheme == "eclic" or b.scheme == "eclic":
        return a.level > b.level
    return a.level < b.level


@dataclass(frozen=True)
class _Setting:
    """One write of a priority the scan found: the value in the controller's raw units."""

    key: int              # ARM: exception number; ECLIC: interrupt id
    level: int | None     # group priority / level; None: not a constant
    origin: str
    site: int


def find_priorities(image: Image, graph: CallGraph, roots: Iterable[Root],
                    policy: HardenPolicy, profile: Profile | None) -> dict[str, Priority]:
    """Each root's priority, by root name (see the module docstring for the rules)."""
    roots = list(roots)
    scheme = _scheme(image, profile)
    given = dict(policy.priorities)
    settings: dict[int, list[_Setting]] = {}
    everywhere: list[str] = []   # writes to an address the scan cannot tell: any vector
    if scheme == "arm":
        _arm_settings(_Code(image, graph), profile, settings, everywhere)
    elif scheme == "eclic":
        _eclic_settings(_Code(image, graph), settings, everywhere)
    out: dict[str, Priority] = {}
    for root in roots:
        names = (root.name, *root.function.names[1:])
        override = next((given[n] for n in names if n in given), None)
        if override is not None:
            out[root.name] = Priority(override, "firmware.toml [harden.priorities]", None,
                                      "eclic" if scheme == "eclic" else "arm")
            continue
        out[root.name] = _root_priority(root, scheme, settings, everywhere)
    return out


def _scheme(image: Image, profile: Profile | None) -> str:
    if image.family == "arm":
        return "arm"
    if profile is not None and profile.interrupts.controller == "eclic":
        return "eclic"
    return "none"


def _root_priority(root: Root, scheme: str, settings: dict[int, list[_Setting]],
                   everywhere: list[str]) -> Priority:
    if scheme == "none":
        return Priority(None, "not modelled", None, "arm",
                        "this interrupt controller's priorities are not read from the code")
    keys = [v for v in root.vectors if v >= 0] if scheme == "arm" else list(root.vectors)
    if scheme == "arm":
        fixed = [ARM_FIXED[v] for v in keys if v in ARM_FIXED]
        if fixed:
            return Priority(min(fixed), "fixed by the architecture", None, "arm")
    if RUNTIME_VECTOR in root.vectors or not keys:
        return Priority(None, "installed at run time", None, scheme,
                        "its vector number is not known, so neither is its priority")
    if root.kind == "trap-entry":
        return Priority(None, "trap entry", None, scheme, "runs for every interrupt")
    if everywhere:
        return Priority(None, "computed", None, scheme, everywhere[0])
    found = [s for k in keys for s in settings.get(k, [])]
    if not found:
        return Priority(0, "reset value", None, scheme,
                        "the code never sets this interrupt's priority")
    levels = {s.level for s in found}
    first = found[0]
    if None in levels:
        bad = next(s for s in found if s.level is None)
        return Priority(None, bad.origin, bad.site, scheme,
                        "the priority is computed at run time, not a constant")
    if len(levels) > 1:
        shown = ", ".join(f"{s.level} at 0x{s.site:08x}" for s in found)
        return Priority(None, "set more than once", first.site, scheme,
                        f"set to different priorities ({shown})")
    return Priority(first.level, first.origin, first.site, scheme)


# ----------------------------------------------------------------------------- Cortex-M

def _arm_settings(code: _Code, profile: Profile | None,
                  settings: dict[int, list[_Setting]], everywhere: list[str]) -> None:
    bits = profile.interrupts.priority_bits if profile is not None else None
    writers = code.writers()
    # PRIGROUP: every constant the code writes. For the hardware's reading of the bytes an
    # unknown or disputed grouping is taken as 0 (the most group bits: the most levels,
    # never less nesting than the truth); HAL's encoding needs the one value it uses.
    groupings: list[int | None] = []
    for name, index in GROUPING_SETTERS.items():
        for site, args, _caller in code.calls_named(name):
            groupings.extend(_ints(code.values(args[index], site)))
    for _name, scan in writers:
        for write in scan.words:
            if write.address == AIRCR:
                value = write.value
                ok = value is not None and (value >> 16) == 0x05FA
                groupings.append((value >> 8) & 7 if ok else None)
    distinct = set(groupings)
    known = next(iter(distinct)) if len(distinct) == 1 and None not in distinct else None
    group = 0 if known is None else known
    hal_group = 0 if not groupings else known

    def level_of_byte(byte: int, known: int = 0xFF) -> int | None:
        # Bits the NVIC does not implement read as zero (B3.4.9): only the top `bits`
        # need to be known.
        width = bits if bits is not None else 8
        implemented = (0xFF << (8 - width)) & 0xFF
        if known & implemented != implemented:
            return None
        return (byte & implemented) >> max(group + 1, 8 - width)

    def level_of_prio(prio: int | None) -> int | None:
        if bits is None or prio is None:
            return None
        return level_of_byte((prio << (8 - bits)) & 0xFF)

    def add(irqn: int, level: int | None, origin: str, site: int) -> None:
        key = irqn + 16
        settings.setdefault(key, []).append(_Setting(key, level, origin, site))

    for name in HAL_SETTERS:
        for site, args, caller in code.calls_named(name):
            where = f"{name} at 0x{site:08x} in {caller}"
            for irqn in _irqs(code.values(args[0], site), everywhere, where):
                subs = _ints(code.values(args[2], site))
                sub = subs[0] if len(set(subs)) == 1 else None
                for pre in _ints(code.values(args[1], site)):
                    level = None
                    if pre is not None and sub is not None and hal_group is not None:
                        level = level_of_prio(_encode(hal_group, pre, sub, bits or 8))
                    add(irqn, level, f"{name}({irqn}, {_show(pre)}, {_show(sub)}) in {caller}",
                        site)
    for name in CMSIS_SETTERS:
        for site, args, caller in code.calls_named(name):
            where = f"{name} at 0x{site:08x} in {caller}"
            for irqn in _irqs(code.values(args[0], site), everywhere, where):
                for value in code.values(args[1], site):
                    prio = value if isinstance(value, int) else None
                    if isinstance(value, tuple) and hal_group is not None:
                        prio = _encode(hal_group, value[1], value[2], bits or 8)
                    add(irqn, level_of_prio(prio), f"{name}({irqn}, {_show(prio)}) in {caller}",
                        site)
    for name, scan in writers:
        for write in scan.bytes:
            vector = _arm_vector(write.address)
            if vector is None:
                continue
            level = None if write.value is None else level_of_byte(write.value, write.known)
            what = "NVIC_IPR" if vector >= 16 else "SHPR"
            shown = "?" if write.value is None or not write.known else (
                f"0x{write.value:02x}" if write.known == 0xFF else
                f"0x{write.value:02x} (bits 0x{write.known:02x} known)")
            settings.setdefault(vector, []).append(_Setting(
                vector, level, f"{what} byte 0x{write.address:08x} = {shown} in {name}",
                write.site))
        for write in scan.unknown_address:
            if _arm_vector(write.address) is not None:
                everywhere.append(f"{name} at 0x{write.site:08x} stores a priority at an "
                                  f"index the code computes (0x{write.address:08x} + index): "
                                  "any interrupt's priority may be set there")
    if bits is None:
        for entries in settings.values():
            for n, s in enumerate(entries):
                if "byte" not in s.origin:
                    entries[n] = _Setting(s.key, None, f"{s.origin} (the board's priority bits "
                                          "are not known: give --board)", s.site)


def _encode(group: int, pre: int, sub: int, bits: int) -> int:
    """CMSIS NVIC_EncodePriority (core_cm4.h): preempt bits above the subpriority bits."""
    group &= 7
    pre_bits = min(7 - group, bits)
    sub_bits = 0 if group + bits < 7 else group - 7 + bits
    return ((pre & ((1 << pre_bits) - 1)) << sub_bits) | (sub & ((1 << sub_bits) - 1))


def _arm_vector(address: int) -> int | None:
    """The exception number whose priority byte lives at `address` (B3.4.9 NVIC_IPRn,
    B3.2.10-12 SHPR1-3), or None for any other address."""
    if NVIC_IPR <= address < NVIC_IPR + 496:
        return 16 + address - NVIC_IPR
    if SHPR1 <= address < SHPR1 + 12:
        return 4 + address - SHPR1
    return None


# ----------------------------------------------------------------------------- ECLIC

def _eclic_settings(code: _Code, settings: dict[int, list[_Setting]],
                    everywhere: list[str]) -> None:
    writers = code.writers()
    nlbits_seen: list[int | None] = []
    for name, index in ECLIC_NLBITS_SETTERS.items():
        for site, args, _caller in code.calls_named(name):
            nlbits_seen.extend(_ints(code.values(args[index], site)))
    for _name, scan in writers:
        for write in scan.bytes:
            if write.address == ECLIC_CFG:
                nlbits_seen.append(None if write.value is None else (write.value >> 1) & 0xF)
    distinct = set(nlbits_seen)
    nlbits = distinct.pop() if len(distinct) == 1 and None not in distinct else None
    for name, (i_irq, i_lvl) in ECLIC_SETTERS.items():
        for site, args, caller in code.calls_named(name):
            where = f"{name} at 0x{site:08x} in {caller}"
            for irq in _irqs(code.values(args[i_irq], site), everywhere, where):
                for level in _ints(code.values(args[i_lvl], site)):
                    settings.setdefault(irq, []).append(_Setting(
                        irq, level, f"{name}({irq}, level {_show(level)}) in {caller}", site))
    for name, scan in writers:
        for write in scan.bytes:
            offset = write.address - ECLIC_INTCTL
            if not 0 <= offset < 4 * 4096 or offset % 4 != 3:
                continue
            irq = offset // 4
            level = None
            if write.value is not None and nlbits is not None:
                level = write.value >> (8 - nlbits) if nlbits else 0
            settings.setdefault(irq, []).append(_Setting(
                irq, level, f"clicintctl[{irq}] = {_show(write.value)} in {name}", write.site))
        for write in scan.unknown_address:
            offset = write.address - ECLIC_INTCTL
            if write.address == ECLIC_CFG or (0 <= offset < 4 * 4096 and offset % 4 == 3):
                everywhere.append(f"{name} at 0x{write.site:08x} stores an ECLIC level at an "
                                  f"index the code computes (0x{write.address:08x} + index): "
                                  "any interrupt's level may be set there")


# ----------------------------------------------------------------------------- common

class _Code:
    """The scans of the functions the call graph reached, made when first needed."""

    def __init__(self, image: Image, graph: CallGraph) -> None:
        self.image, self.graph = image, graph
        self.cache: dict[int, PriorityScan] = {}
        self.callers: dict[int, list[Edge]] = {}
        for edges in graph.edges.values():
            for edge in edges:
                self.callers.setdefault(edge.callee, []).append(edge)

    def scan(self, address: int) -> PriorityScan:
        if address not in self.cache:
            self.cache[address] = scan_writes(self.image, self.graph.function(address))
        return self.cache[address]

    def writers(self) -> list[tuple[str, PriorityScan]]:
        """(name, scan) of every reached function that may store to the controller,
        except the setter functions (their callers say what they set)."""
        out = []
        for address in self.graph.edges:
            func = self.graph.function(address)
            if SETTER_NAMES & set(func.names) or not may_write(self.image, func):
                continue
            out.append((func.name, self.scan(address)))
        return out

    def calls_to(self, callee: int) -> list[tuple[int, tuple, str]]:
        """(site, argument values, caller name) of each direct call of `callee`."""
        out = []
        for edge in self.callers.get(callee, []):
            if edge.kind not in ("call", "tail"):
                continue
            for call in self.scan(edge.caller).calls:
                if call.site == edge.site and call.target == callee:
                    out.append((call.site, call.args, self.graph.function(edge.caller).name))
        return out

    def calls_named(self, name: str) -> list[tuple[int, tuple, str]]:
        """Calls of the setter `name`, except from another setter (HAL_NVIC_SetPriority
        calls NVIC_SetPriority: its own callers are read as HAL_NVIC_SetPriority's)."""
        func = self.image.function_named(name)
        if func is None:
            return []
        return [call for call in self.calls_to(func.address)
                if not SETTER_NAMES & set(self.image.function_at(call[0]).names)]

    def values(self, value: installs.Value, site: int, depth: int = 0) -> list:
        """The values an argument can have at `site`: a constant, or (when the caller
        passes one of its own arguments on) what every call of the caller gives, a few
        levels up. None in the list is a value the code does not fix."""
        if value is None:
            return [None]
        if value[0] == "const":
            return [value[1]]
        if value[0] == "enc":
            return [value]
        if value[0] == "arg" and depth < 4:
            caller = self.image.function_at(site)
            sites = self.calls_to(caller.address) if caller is not None else []
            if not sites:
                return [None]
            out = []
            for call_site, args, _name in sites:
                index = value[1]
                out.extend(self.values(args[index] if index < len(args) else None, call_site,
                                       depth + 1))
            return out
        return [None]


def _ints(values: list) -> list[int | None]:
    return [v if isinstance(v, int) else None for v in values]


def _irqs(values: list, everywhere: list[str], where: str) -> list[int]:
    """IRQ numbers as CMSIS's IRQn_Type (signed: SysTick_IRQn = -1, PendSV_IRQn = -2)."""
    out = []
    for value in values:
        if not isinstance(value, int):
            everywhere.append(f"{where}: the interrupt number is not a constant: any "
                              "interrupt's priority may be set there")
            continue
        out.append(value - (1 << 32) if value >= 1 << 31 else value)
    return out


def _show(value) -> str:
    return "?" if not isinstance(value, int) else str(value)
