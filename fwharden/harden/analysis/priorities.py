"""Each interrupt's preemption priority, read from the code that sets it (issue 12 item 7).

Handlers of one preemption priority never nest: the stack holds at most one handler per
priority (stacks.py). Where the priorities come from, in order of trust:

1. `[harden.priorities]` in firmware.toml (the project says so; overrides the code).
2. Constant writes in the code (every function of the ELF that stores to the controller;
   calls of the setter functions found from the call graph, arguments followed up
   through callers):
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

Several writes to one interrupt (fwharden's start-up sets every IPR to 0xFF before main
sets its own; CubeMX sets SysTick up to five times): `_Order` keeps the writes that may
hold once start-up is done: a write is dropped only when another one surely runs after
it. Unless some write is sure to run from reset, the reset value may still hold, except
where every enable of the line follows a priority write straight-line (CubeMX's
`HAL_NVIC_SetPriority(X, ..); HAL_NVIC_EnableIRQ(X);`, ECLIC_Register_IRQ). The model
assumes what those sequences show: an interrupt is configured before it is enabled, so
the value before the last write is not the one it runs with.

Nothing is guessed: a value the code computes at run time, values that may differ, a
store at an index the code computes (a loop through NVIC_IPR, TinyGo's SetPriority: then
every priority is unknown), a call into a setter whose arguments the scan cannot read,
or no board (the implemented priority bits are needed for NVIC_SetPriority values) all
give `level = None`: that handler is assumed to nest with every other, and the note says
why. A disputed PRIGROUP is read as 0 (the most levels, never fewer nestings).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from fwharden.board_profiles import Profile
from fwharden.harden.analysis.arguments import _conditional, _listing
from fwharden.harden.analysis.callgraph import CallGraph, Edge
from fwharden.harden.analysis.policy import HardenPolicy
from fwharden.harden.analysis.roots import RUNTIME_VECTOR, Root, root_names
from fwharden.harden.elf.image import Function, Image
from fwharden.harden.isa import installs
from fwharden.harden.isa.priority_writes import PriorityScan, may_write, scan_writes

# Cortex-M exception numbers with a fixed priority above every configurable one (B1.5.4).
ARM_FIXED = {2: -2, 3: -1}    # NMI, HardFault (Reset is -3 but is the thread, not a root)
NVIC_IPR = 0xE000E400
NVIC_ISER = 0xE000E100
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
# ECLIC enables (argument 0: the interrupt id).
ECLIC_ENABLERS = ("ECLIC_EnableIRQ", "__ECLIC_EnableIRQ", "eclic_enable_interrupt")
# ECLIC nlbits: name -> argument holding nlbits itself.
ECLIC_NLBITS_SETTERS = {"ECLIC_SetCfgNlbits": 0, "__ECLIC_SetCfgNlbits": 0,
                        "eclic_set_nlbits": 0, "eclic_priority_group_set": 0}
# Functions that enable an IRQ (argument 0: IRQn): ISER stores inside them are theirs.
ENABLERS = ("HAL_NVIC_EnableIRQ", "NVIC_EnableIRQ", "__NVIC_EnableIRQ")
SETTER_NAMES = frozenset({*ENABLERS, *ECLIC_ENABLERS, *HAL_SETTERS, *CMSIS_SETTERS,
                          *GROUPING_SETTERS, *ECLIC_SETTERS, *ECLIC_NLBITS_SETTERS,
                          "NVIC_EncodePriority", "__NVIC_EncodePriority"})


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
                    policy: HardenPolicy, profile: Profile | None,
                    thread: Function | None = None) -> dict[str, Priority]:
    """Each root's priority, by root name (see the module docstring for the rules).
    `thread`: the reset entry, whose call order decides which of several writes is last."""
    roots = list(roots)
    scheme = _scheme(image, profile)
    given = dict(policy.priorities)
    found = _Found({}, [], {}, [])
    code = _Code(image, graph, thread.address if thread is not None else None)
    if scheme == "arm":
        _arm_settings(code, profile, found)
    elif scheme == "eclic":
        _eclic_settings(code, found)
    out: dict[str, Priority] = {}
    for root in roots:
        names = (root.name, *root_names(root.function))
        override = next((given[n] for n in names if n in given), None)
        if override is not None:
            out[root.name] = Priority(override, "firmware.toml [harden.priorities]", None,
                                      "eclic" if scheme == "eclic" else "arm")
            continue
        out[root.name] = _root_priority(root, scheme, found, code)
    return out


@dataclass
class _Found:
    """What the scans found: settings by vector, writes at an unknown vector, the sites
    that enable each vector, enables at an unknown vector."""

    settings: dict[int, list[_Setting]]
    everywhere: list[str]
    enables: dict[int, list[int]]
    enable_unknown: list[int]


def _scheme(image: Image, profile: Profile | None) -> str:
    if image.family == "arm":
        return "arm"
    if profile is not None and profile.interrupts.controller == "eclic":
        return "eclic"
    return "none"


def _root_priority(root: Root, scheme: str, found: _Found, code: _Code) -> Priority:
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
    if found.everywhere:
        return Priority(None, "computed", None, scheme, found.everywhere[0])
    each = [_one_vector(key, scheme, found, code) for key in keys]
    if len({p.level for p in each}) == 1:
        return each[0]
    return Priority(None, "several vectors", None, scheme,
                    f"installed at {len(keys)} vectors whose priorities differ")


def _one_vector(key: int, scheme: str, found: _Found, code: _Code) -> Priority:
    writes = found.settings.get(key, [])
    if not writes:
        return Priority(0, "reset value", None, scheme,
                        "the code never sets this interrupt's priority")
    live, reset_may_hold = code.order.last(writes)
    if reset_may_hold and (scheme == "eclic" or key >= 16) and \
            code.order.enabled_after_set(key, writes, found):
        reset_may_hold = False
    levels = {w.level for w in live} | ({0} if reset_may_hold else set())
    first = live[0]
    if None in levels:
        bad = next(w for w in live if w.level is None)
        return Priority(None, bad.origin, bad.site, scheme,
                        "the priority is computed at run time, not a constant")
    if len(levels) > 1:
        shown = ", ".join(f"{w.level} at 0x{w.site:08x}" for w in live)
        if reset_may_hold:
            shown += ", or the reset value 0 where no write is sure to run first"
        return Priority(None, "set more than once", first.site, scheme,
                        f"may run at different priorities ({shown})")
    note = ""
    if len(writes) > len(live):
        note = (f"the last of {len(writes)} writes on the start-up path; the earlier ones "
                "are overwritten before it")
    return Priority(first.level, first.origin, first.site, scheme, note)


# ----------------------------------------------------------------------------- Cortex-M

def _arm_settings(code: _Code, profile: Profile | None, found: _Found) -> None:
    bits = profile.interrupts.priority_bits if profile is not None else None
    writers = code.writers()
    # PRIGROUP: every constant the code writes. For the hardware's reading of the bytes an
    # unknown or disputed grouping is taken as 0 (the most group bits: the most levels,
    # never less nesting than the truth); HAL's encoding needs the one value it uses.
    groupings: list[_Setting] = []
    for name, index in GROUPING_SETTERS.items():
        for site, args, caller in code.calls_named(name):
            for value in _ints(code.values(args[index], site)):
                groupings.append(_Setting(-100, value, f"{name}({_show(value)}) in {caller}",
                                          site))
    for name, scan in writers:
        for write in scan.words:
            if write.address == AIRCR:
                # A write counts only with VECTKEY 0x05FA (B3.2.6); PRIGROUP is bits 10:8.
                needed = 0xFFFF0700
                value = write.value
                if value is not None and write.known & 0xFFFF0000 == 0xFFFF0000 and \
                        value >> 16 != 0x05FA:
                    continue
                ok = value is not None and write.known & needed == needed
                groupings.append(_Setting(-100, (value >> 8) & 7 if ok else None,
                                          f"AIRCR store in {name}", write.site))
    live, _reset = code.order.last(groupings) if groupings else ([], True)
    distinct = {g.level for g in live}
    known = next(iter(distinct)) if len(distinct) == 1 and None not in distinct else None
    if not groupings:
        known = 0       # AIRCR.PRIGROUP resets to 0 (B3.2.6)
    group = 0 if known is None else known
    hal_group = known

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
        found.settings.setdefault(key, []).append(_Setting(key, level, origin, site))

    for name in HAL_SETTERS:
        for site, args, caller in code.calls_named(name):
            where = f"{name} at 0x{site:08x} in {caller}"
            for irqn in _irqs(code.values(args[0], site), found.everywhere, where):
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
            for irqn in _irqs(code.values(args[0], site), found.everywhere, where):
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
            found.settings.setdefault(vector, []).append(_Setting(
                vector, level, f"{what} byte 0x{write.address:08x} = {shown} in {name}",
                write.site))
        for write in scan.unknown_address:
            if _arm_vector(write.address) is not None:
                found.everywhere.append(f"{name} at 0x{write.site:08x} stores a priority at an "
                                  f"index the code computes (0x{write.address:08x} + index): "
                                  "any interrupt's priority may be set there")
    for name in ENABLERS:
        for site, args, _caller in code.calls_named(name):
            for value in code.values(args[0], site):
                if isinstance(value, int):
                    found.enables.setdefault(_signed(value) + 16, []).append(site)
                else:
                    found.enable_unknown.append(site)
    for _name, scan in writers:
        for write in scan.words:
            if NVIC_ISER <= write.address < NVIC_ISER + 32:
                if write.value is None:
                    found.enable_unknown.append(write.site)
                    continue
                for bit in range(32):
                    if write.value >> bit & 1:
                        vector = 16 + 32 * ((write.address - NVIC_ISER) // 4) + bit
                        found.enables.setdefault(vector, []).append(write.site)
        for write in scan.unknown_address:
            if NVIC_ISER <= write.address < NVIC_ISER + 32:
                found.enable_unknown.append(write.site)
    if bits is None:
        for entries in found.settings.values():
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

def _eclic_settings(code: _Code, found: _Found) -> None:
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
    for name in ECLIC_ENABLERS:
        for site, args, _caller in code.calls_named(name):
            for value in code.values(args[0], site):
                if isinstance(value, int):
                    found.enables.setdefault(value, []).append(site)
                else:
                    found.enable_unknown.append(site)
    for _name, scan in writers:
        for write in (*scan.bytes, *scan.unknown_address):
            offset = write.address - ECLIC_INTCTL
            if 0 <= offset < 4 * 4096 and offset % 4 == 1:      # clicintie[n]
                if write in scan.unknown_address:
                    found.enable_unknown.append(write.site)
                elif write.value != 0:
                    found.enables.setdefault(offset // 4, []).append(write.site)
    for name, (i_irq, i_lvl) in ECLIC_SETTERS.items():
        for site, args, caller in code.calls_named(name):
            where = f"{name} at 0x{site:08x} in {caller}"
            for irq in _irqs(code.values(args[i_irq], site), found.everywhere, where):
                if name in ("ECLIC_Register_IRQ", "eclic_irq_enable"):
                    found.enables.setdefault(irq, []).append(site)   # sets, then enables
                for level in _ints(code.values(args[i_lvl], site)):
                    found.settings.setdefault(irq, []).append(_Setting(
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
            found.settings.setdefault(irq, []).append(_Setting(
                irq, level, f"clicintctl[{irq}] = {_show(write.value)} in {name}", write.site))
        for write in scan.unknown_address:
            offset = write.address - ECLIC_INTCTL
            if write.address == ECLIC_CFG or (0 <= offset < 4 * 4096 and offset % 4 == 3):
                found.everywhere.append(f"{name} at 0x{write.site:08x} stores an ECLIC level at an "
                                  f"index the code computes (0x{write.address:08x} + index): "
                                  "any interrupt's level may be set there")


# ----------------------------------------------------------------------------- order

_Position = tuple[int, ...]


class _Order:
    """Which priority writes the start-up code surely makes, and in what order.

    A site is *sure* in its function when it runs whenever the function returns: every
    branch before it lands at or before it (an `if (err) Error_Handler();` or a copy loop
    in between is fine; a return, an indirect jump or a branch past it is not). A loop
    that never ends never reaches the write: then the code after it, the interrupts it
    would configure included, never runs either. A write's position is the chain of call sites from the reset
    entry down to it; it is sure when every site on the chain is. Of two positions the one
    whose site comes first in the first function where they differ runs first (everything
    before a sure site runs at most once per call, in address order). A write that no
    chain reaches from the reset entry (a handler's, or behind an indirect call) may run
    at any time.
    """

    CAP = 64        # chains per function; more: the write is taken as unordered
    DEPTH = 24

    def __init__(self, code: _Code, thread: int | None) -> None:
        self.code, self.thread = code, thread
        self.sure_cache: dict[int, bool] = {}
        self.chain_cache: dict[int, list[tuple[_Position, bool]] | None] = {}

    def sure(self, site: int) -> bool:
        if site not in self.sure_cache:
            self.sure_cache[site] = self._straight(site)
        return self.sure_cache[site]

    def _straight(self, site: int, start: int | None = None) -> bool:
        """No instruction in [start (the function's entry), site) can make `site` be
        skipped or run twice."""
        image = self.code.image
        func = image.function_at(site)
        if func is None:
            return False
        listing = _listing_of(image, func)
        begin = func.address if start is None else start
        for i, (address, mnem, ops) in enumerate(listing):
            if address < begin:
                continue
            if address >= site:
                if address == site and image.family == "arm" and _conditional(listing, i):
                    return False     # the site itself is conditional (IT block)
                return address == site
            kind, target = _branch(image.family, address, mnem, ops)
            if kind == "none":
                continue
            if kind != "direct" or target is None or not begin <= target <= site:
                return False
        return False

    def positions(self, site: int) -> list[tuple[_Position, bool]] | None:
        """(chain of sites from the reset entry ending at `site`, sure) for each way the
        start-up code reaches it; None when some way is not from the reset entry."""
        func = self.code.image.function_at(site)
        if func is None or self.thread is None:
            return None
        chains = self._chains(func.address, 0, frozenset())
        if chains is None:
            return None
        sure = self.sure(site)
        return [((*chain, site), ok and sure) for chain, ok in chains]

    def _chains(self, function: int, depth: int,
                seen: frozenset[int]) -> list[tuple[_Position, bool]] | None:
        if function == self.thread:
            return [((), True)]
        if depth == 0 and function in self.chain_cache:
            return self.chain_cache[function]
        callers = self.code.callers.get(function, [])
        out: list[tuple[_Position, bool]] | None = []
        if not callers or depth > self.DEPTH or function in seen:
            out = None       # a root, an indirect-call target, or too deep / recursive
        for edge in callers if out is not None else []:
            if edge.kind not in ("call", "tail"):
                out = None
                break
            above = self._chains(edge.caller, depth + 1, seen | {function})
            if above is None:
                out = None
                break
            sure = self.sure(edge.site)
            out.extend(((*chain, edge.site), ok and sure) for chain, ok in above)
            if len(out) > self.CAP:
                out = None
                break
        if depth == 0:
            self.chain_cache[function] = out
        return out

    def last(self, writes: list[_Setting]) -> tuple[list[_Setting], bool]:
        """The writes whose value may hold once the start-up code is done with them, and
        whether the value before every write (the reset value) still may.

        A write is overwritten when, at every position it runs at, another write surely
        follows: in the first function where their chains differ the other's site comes
        later, straight-line from this one's, and is sure below it. The reset value may
        hold unless some write is sure from the reset entry."""
        where = {id(w): self.positions(w.site) for w in writes}
        everything = [(id(w), p) for w in writes for p, _s in (where[id(w)] or [])]
        live = []
        for write in writes:
            mine = where[id(write)]
            if mine is None or not all(
                    any(self._overwrites(p, q) for owner, q in everything
                        if owner != id(write) or q != p) for p, _sure in mine):
                live.append(write)
        sure = any(ok for w in writes for _p, ok in (where[id(w)] or []))
        return list(dict.fromkeys(live)) or list(writes), not sure

    def _overwrites(self, p: _Position, q: _Position) -> bool:
        """q surely runs after p (see `last`)."""
        for i, (x, y) in enumerate(zip(p, q, strict=False)):
            if x != y:
                return x < y and self._straight(y, start=x) and \
                    all(self.sure(site) for site in q[i + 1:])
        return False

    def enabled_after_set(self, key: int, writes: list[_Setting], found: _Found) -> bool:
        """Every enable of the interrupt follows one of its priority writes in the same
        function, straight-line (CubeMX: HAL_NVIC_SetPriority(X, ..); HAL_NVIC_EnableIRQ(X)):
        then it never runs with the reset value, even when that write is conditional."""
        sites = found.enables.get(key, [])
        if not sites or found.enable_unknown:
            return False
        image = self.code.image
        for enable in sites:
            func = image.function_at(enable)
            before = [w.site for w in writes if w.site <= enable and func is not None
                      and image.function_at(w.site) == func]
            if not any(w == enable or self._straight(enable, start=w) for w in before):
                return False
        return True


def _before(a: _Position, b: _Position) -> bool:
    """Position a surely runs before b (b is sure): the first sites where they differ
    are in one function, a's first."""
    for x, y in zip(a, b, strict=False):
        if x != y:
            return x < y
    return False


def _listing_of(image: Image, func: Function) -> list[tuple[int, str, str]]:
    return _listing(image, func)


def _branch(family: str, address: int, mnem: str, ops: str) -> tuple[str, int | None]:
    """("none" | "direct" | "other", target) for one instruction: calls are "none" (they
    return), direct branches give their target, returns and indirect jumps are "other"."""
    operands = [o.strip() for o in ops.split(",")] if ops else []
    if family == "arm":
        base = mnem.split(".")[0]
        if base in ("bl", "blx") and operands and operands[0].startswith("#"):
            return "none", None
        if base in ("blx",):
            return "none", None     # indirect call: returns here
        if base.startswith(("cbz", "cbnz")) or (base.startswith("b") and base[1:] in (
                "", "eq", "ne", "cs", "hs", "cc", "lo", "mi", "pl", "vs", "vc", "hi", "ls",
                "ge", "lt", "gt", "le", "al")):
            try:
                return "direct", int(operands[-1].lstrip("#"), 0)
            except (ValueError, IndexError):
                return "other", None
        if base.startswith(("bx", "tbb", "tbh")) or (operands and operands[0] == "pc") or (
                base.startswith(("pop", "ldm")) and "pc" in ops):
            return "other", None
        return "none", None
    base = mnem.removeprefix("c.")
    if base in ("jal", "call") and not (operands and operands[0] == "zero"):
        return "none", None
    if base in ("jalr",) and not (operands and operands[0] == "zero"):
        return "none", None
    if base in ("j", "jal") or base.startswith("b"):
        try:
            return "direct", address + int(operands[-1], 0)
        except (ValueError, IndexError):
            return "other", None
    if base in ("jr", "ret", "mret", "jalr", "tail"):
        return "other", None
    return "none", None


# ----------------------------------------------------------------------------- common

class _Code:
    """The scans of the functions the call graph reached, made when first needed."""

    def __init__(self, image: Image, graph: CallGraph, thread: int | None = None) -> None:
        self.image, self.graph = image, graph
        self.cache: dict[int, PriorityScan] = {}
        self.callers: dict[int, list[Edge]] = {}
        for edges in graph.edges.values():
            for edge in edges:
                self.callers.setdefault(edge.callee, []).append(edge)
        self.order = _Order(self, thread)

    def scan(self, address: int) -> PriorityScan:
        if address not in self.cache:
            func = self.image.function_at(address)
            assert func is not None and func.address == address
            self.cache[address] = scan_writes(self.image, func)
        return self.cache[address]

    def writers(self) -> list[tuple[str, PriorityScan]]:
        """(name, scan) of every function that may store to the controller, except the
        setter functions (their callers say what they set). Every function of the ELF,
        not only those the call graph reached: one called only through a pointer the
        graph did not resolve still runs, and its writes (with no place in the start-up
        order) count."""
        out = []
        for func in {f.address: f for f in self.image.functions}.values():
            if SETTER_NAMES & set(func.names) or not may_write(self.image, func):
                continue
            out.append((func.name, self.scan(func.address)))
        return out

    def calls_to(self, callee: int) -> list[tuple[int, tuple, str]]:
        """(site, argument values, caller name) of each direct call of `callee`."""
        out = []
        for edge in self.callers.get(callee, []):
            name = self.graph.function(edge.caller).name
            found = [call for call in self.scan(edge.caller).calls
                     if call.site == edge.site and call.target == callee]
            # A call the scan cannot read (through a register the decoder resolved, say)
            # still calls the setter: with arguments unknown, never skipped.
            out.extend((call.site, call.args, name) for call in found[:1]) if found else \
                out.append((edge.site, (None,) * 8, name))
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
        out.append(_signed(value))
    return out


def _signed(value: int) -> int:
    return value - (1 << 32) if value >= 1 << 31 else value


def _show(value) -> str:
    return "?" if not isinstance(value, int) else str(value)
