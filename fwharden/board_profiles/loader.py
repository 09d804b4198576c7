"""Load a board profile: resolve `inherits`, then check version, schema and semantics.

Modelled on west's manifest loader: `profile_from_data()` does all the checking on plain
data and is apart from file reading, and every failure is one `ProfileError` that names
the file, the key and the fix. Nothing here prints.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping, Sequence
from importlib import resources
from pathlib import Path
from typing import Any

from fwharden.inputs import printable

from .errors import ProfileError
from .model import (
    ARM_ARCHES,
    RISCV_ARCHES,
    Console,
    Cpu,
    Interrupts,
    MemoryRegion,
    Placement,
    Profile,
    Protection,
    Qemu,
    StackPolicy,
    is_power_of_two,
)
from .probe import DEBUG_SCHEMA, FLASH_SCHEMA, debug_from_data, flash_from_data
from .tomlread import Size, Table, check_schema, deep_merge, parse_size, read_toml

SCHEMA_VERSION = 1

PROFILE_SCHEMA: dict[str, Any] = {
    "schema_version": int,
    "inherits": str,
    "board": {"name": str, "title": str, "reference": str},
    "cpu": {"arch": str, "core": str, "fpu": str, "float_abi": str},
    "protection": {"kind": str, "regions": int, "granularity": int},
    "memory": Table({"origin": Size, "length": Size, "attributes": str, "note": str}),
    "interrupts": {
        "controller": str,
        "external": str,
        "irq_count": int,
        "priority_bits": int,
        "names": Table(int),
        "handlers": Table(int),
    },
    "placement": {
        "boot": str,
        "boot_address": Size,
        "text": str,
        "rodata": str,
        "data": str,
        "bss": str,
        "heap": str,
        "heap_size": Size,
        "boot2": str,
        "data_load": str,
    },
    "stacks": {
        "region": str,
        "isr_size": Size,
        "thread_size": Size,
        "guard_size": Size,
        "watermark": Size,
        "layout": str,
    },
    "qemu": {"machine": str, "binary": str, "console": str},
    "console": {"kind": str, "uart": str, "base": Size, "setup": str},
    "flash": FLASH_SCHEMA,
    "debug": DEBUG_SCHEMA,
}
UART_TYPES = ("cmsdk", "sifive", "stm32", "stm32f4", "lpuart", "pl011", "esp32")

ARM_CORES = {
    "cortex-m0": ("armv6-m", ("none",)),
    "cortex-m0plus": ("armv6-m", ("none",)),
    "cortex-m3": ("armv7-m", ("none",)),
    "cortex-m4": ("armv7e-m", ("none", "fpv4-sp-d16")),
    "cortex-m7": ("armv7e-m", ("none", "fpv5-sp-d16", "fpv5-d16")),
    "cortex-m33": ("armv8-m.main", ("none", "fpv5-sp-d16")),
}
FLOAT_ABIS = ("soft", "softfp", "hard")
# "intmatrix": Espressif's interrupt matrix (ESP32-C3 TRM 8): peripheral sources routed to
# CPU interrupt lines 1..31, entered through a vectored mtvec.
CONTROLLERS = {"arm": ("nvic",), "riscv": ("clint", "eclic", "plic", "intmatrix")}
PROTECTIONS = {"arm": ("pmsav6", "pmsav7", "pmsav8", "none"), "riscv": ("pmp", "none")}
# Which MPU each architecture has: PMSAv6 is the optional ARMv6-M MPU (DDI 0419E B3.5),
# PMSAv7 the ARMv7-M one (DDI 0403E B3.5), PMSAv8 the ARMv8-M one with its stack limits.
PMSA_ARCHES = {"pmsav6": ("armv6-m",), "pmsav7": ("armv7-m", "armv7e-m"),
               "pmsav8": ("armv8-m.main",)}
# ARMv6-M MPU_RASR.SIZE values below 7 are reserved: a region is at least 256 bytes
# (DDI 0419E B3.5.9). ARMv7-M allows 32 (DDI 0403E B3.5.8).
PMSA_MIN_REGION = {"pmsav6": 256, "pmsav7": 32, "pmsav8": 32}
# Second-stage boots fwharden writes (runtime/<name>/boot2.S) and the console set-ups
# (runtime/<name>/console_setup.c).
BOOT2_KINDS = ("rp2040",)
CONSOLE_SETUPS = ("rp2040",)
BOOT2_SIZE = {"rp2040": 256}
STACK_LAYOUTS = ("top", "flip")
CONSOLES = ("semihosting", "uart")
# ARMv7-M NVIC: at most 496 external interrupts (ARM DDI 0403E B3.4.1).
MAX_NVIC_IRQS = 496


C_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


def catalog_dir() -> Path:
    """The directory of the bundled board catalog."""
    return Path(str(resources.files("fwharden.board_profiles")))


def list_boards(extra_dirs: Sequence[Path] = ()) -> list[str]:
    """Names of all boards: the catalog's, then any in `extra_dirs` (family files excluded)."""
    names = {p.stem for d in (catalog_dir(), *extra_dirs) for p in Path(d).glob("*.toml")}
    return sorted(names)


def find_profile(name: str, extra_dirs: Sequence[Path] = ()) -> Path:
    """Resolve a board name (or a path to a .toml file) to the profile file."""
    if name.endswith(".toml"):
        path = Path(name)
        if not path.is_file():
            raise ProfileError(path, "", "board profile file not found", "check the path")
        return path
    for directory in (*extra_dirs, catalog_dir()):
        candidate = Path(directory) / f"{name}.toml"
        if candidate.is_file():
            return candidate
    known = ", ".join(list_boards(extra_dirs))
    raise ProfileError(f"board '{name}'", "", "unknown board", f"use one of: {known}")


def load_profile(name: str, extra_dirs: Sequence[Path] = ()) -> Profile:
    """Find, read, resolve inheritance and validate the profile called `name`."""
    path = find_profile(name, extra_dirs)
    data, chain = _read_with_parents(path, ())
    return profile_from_data(data, path, chain)


def _read_with_parents(path: Path, seen: tuple[Path, ...]) -> tuple[dict[str, Any], tuple[str, ...]]:
    """Read `path` and merge it over the family file it inherits from (recursively)."""
    if path.resolve() in seen:
        raise ProfileError(path, "inherits", "inheritance cycle",
                           "make the family files form a chain without loops")
    data = read_toml(path, ProfileError)
    _check_version(data, path)
    parent_name = data.get("inherits")
    if parent_name is None:
        return data, ()
    if not isinstance(parent_name, str):
        raise ProfileError(path, "inherits", "must be a string", 'write inherits = "stm32h7"')
    parent_path = _find_family(parent_name, path)
    parent, chain = _read_with_parents(parent_path, (*seen, path.resolve()))
    merged = deep_merge(parent, data)
    merged.pop("inherits", None)
    return merged, (parent_name, *chain)


def _find_family(name: str, child: Path) -> Path:
    # A profile inherits a family file or another board (a variant of a catalog board).
    for directory in (child.parent / "families", child.parent, catalog_dir() / "families",
                      catalog_dir()):
        candidate = directory / f"{name}.toml"
        if candidate.is_file() and candidate.resolve() != child.resolve():
            return candidate
    raise ProfileError(child, "inherits", f"family profile '{name}' not found",
                       f"create families/{name}.toml next to the profile or fix the name")


def _check_version(data: Mapping[str, Any], path: Path) -> None:
    version = data.get("schema_version")
    if version is None:
        raise ProfileError(path, "schema_version", "missing",
                           f"add schema_version = {SCHEMA_VERSION} at the top")
    if version != SCHEMA_VERSION:
        raise ProfileError(path, "schema_version", f"version {version!r} is not supported",
                           f"this fwharden reads schema_version = {SCHEMA_VERSION}")


def profile_from_data(data: Mapping[str, Any], path: Path, inherits: tuple[str, ...] = ()) -> Profile:
    """Validate merged profile data (version, then schema, then semantics) into a Profile."""
    _check_version(data, path)
    check_schema(data, PROFILE_SCHEMA, path, ProfileError)
    req = _Required(data, path)
    cpu = _cpu(req, path)
    memory = _memory(req, path)
    profile = Profile(
        name=req.get("board.name", str),
        title=req.opt("board.title", str, ""),
        reference=req.opt("board.reference", str, ""),
        source=path,
        cpu=cpu,
        protection=_protection(req, cpu, path),
        memory=memory,
        interrupts=_interrupts(req, cpu, path),
        placement=_placement(req, memory),
        stacks=_stacks(req),
        qemu=_qemu(req),
        inherits=inherits,
        console=_console(req, path),
    )
    flash = flash_from_data(data.get("flash"), path)
    profile = dataclasses.replace(profile, flash=flash, debug=debug_from_data(
        data.get("debug"), flash, profile.qemu is not None, path))
    check_semantics(profile, path)
    return profile


class _Required:
    """Dotted-key access to profile data that turns a missing key into a ProfileError."""

    def __init__(self, data: Mapping[str, Any], path: Path) -> None:
        self.data = data
        self.path = path

    def _lookup(self, dotted: str) -> Any:
        node: Any = self.data
        for part in dotted.split("."):
            if not isinstance(node, Mapping) or part not in node:
                return None
            node = node[part]
        return node

    def get(self, dotted: str, kind: type) -> Any:
        value = self._lookup(dotted)
        if value is None:
            raise ProfileError(self.path, dotted, "missing", f"add {dotted} to the profile")
        return parse_size(value) if kind is Size else value

    def opt(self, dotted: str, kind: type, default: Any) -> Any:
        value = self._lookup(dotted)
        if value is None:
            return default
        return parse_size(value) if kind is Size else value


def _choice(path: Path, key: str, value: str, allowed: Sequence[str]) -> str:
    if value not in allowed:
        raise ProfileError(path, key, f"'{value}' is not supported",
                           f"use one of: {', '.join(allowed)}")
    return value


def _cpu(req: _Required, path: Path) -> Cpu:
    arch = _choice(path, "cpu.arch", req.get("cpu.arch", str), ARM_ARCHES + RISCV_ARCHES)
    core = req.get("cpu.core", str)
    fpu = req.opt("cpu.fpu", str, "none")
    float_abi = _choice(path, "cpu.float_abi", req.opt("cpu.float_abi", str, "soft"), FLOAT_ABIS)
    if arch in ARM_ARCHES:
        _choice(path, "cpu.core", core, tuple(ARM_CORES))
        core_arch, fpus = ARM_CORES[core]
        if core_arch != arch:
            raise ProfileError(path, "cpu.arch", f"{core} is {core_arch}, not {arch}",
                               f"set cpu.arch = \"{core_arch}\"")
        _choice(path, "cpu.fpu", fpu, fpus)
    elif fpu != "none" and "f" not in arch[4:]:
        raise ProfileError(path, "cpu.fpu", f"{arch} has no F extension",
                           'set cpu.fpu = "none" or use an arch with F')
    if fpu == "none" and float_abi != "soft":
        raise ProfileError(path, "cpu.float_abi", f"float ABI '{float_abi}' needs an FPU",
                           'set cpu.float_abi = "soft" or name the FPU in cpu.fpu')
    return Cpu(arch=arch, core=core, fpu=fpu, float_abi=float_abi)


def _protection(req: _Required, cpu: Cpu, path: Path) -> Protection:
    kind = _choice(path, "protection.kind", req.get("protection.kind", str),
                   PROTECTIONS[cpu.family])
    if kind in PMSA_ARCHES and cpu.arch not in PMSA_ARCHES[kind]:
        raise ProfileError(path, "protection.kind", f"{cpu.arch} has no {kind} MPU",
                           'use "pmsav8" on ARMv8-M Mainline, "pmsav7" on ARMv7-M, '
                           '"pmsav6" on an ARMv6-M core with the MPU option, else "none"')
    regions = req.opt("protection.regions", int, 0)
    if kind != "none" and regions < 2:
        raise ProfileError(path, "protection.regions",
                           f"{regions} regions cannot hold the two stack guards",
                           "give the number of MPU regions / PMP entries the core has (>= 2)")
    granularity = req.opt("protection.granularity", int, 4)
    if not is_power_of_two(granularity) or granularity < 4:
        raise ProfileError(path, "protection.granularity", f"{granularity} is not a power of two >= 4",
                           "give the PMP grain in bytes (4 for most cores)")
    return Protection(kind=kind, regions=regions, granularity=granularity)


def _memory(req: _Required, path: Path) -> tuple[MemoryRegion, ...]:
    table = req.get("memory", dict)
    if not table:
        raise ProfileError(path, "memory", "no memory regions", "add [memory.<name>] tables")
    regions = []
    for name, fields in table.items():
        key = f"memory.{name}"
        for required in ("origin", "length", "attributes"):
            if required not in fields:
                raise ProfileError(path, f"{key}.{required}", "missing",
                                   f"add {required} to [{key}]")
        attributes = fields["attributes"]
        if not attributes or set(attributes) - set("rwx"):
            raise ProfileError(path, f"{key}.attributes", f"'{attributes}' is not a set of r, w, x",
                               'write e.g. attributes = "rx" for flash, "rwx" for RAM')
        length = parse_size(fields["length"])
        origin = parse_size(fields["origin"])
        assert length is not None and origin is not None  # checked by the schema
        if length <= 0:
            raise ProfileError(path, f"{key}.length", "must be positive", "give the region size")
        if origin + length > 1 << 32:
            raise ProfileError(path, key, "extends past the 32-bit address space",
                               "check origin and length")
        regions.append(MemoryRegion(name=name, origin=origin, length=length,
                                    attributes=attributes, note=fields.get("note", "")))
    regions.sort(key=lambda r: r.origin)
    for low, high in zip(regions, regions[1:], strict=False):
        if high.origin < low.end:
            raise ProfileError(path, f"memory.{high.name}",
                               f"overlaps memory.{low.name} "
                               f"(0x{high.origin:08x} < 0x{low.end:08x})",
                               "correct origin/length from the reference manual")
    return tuple(regions)


def _interrupts(req: _Required, cpu: Cpu, path: Path) -> Interrupts:
    controller = _choice(path, "interrupts.controller", req.get("interrupts.controller", str),
                         CONTROLLERS[cpu.family])
    external = req.opt("interrupts.external", str, "")
    if external:
        _choice(path, "interrupts.external", external, ("plic",))
    irq_count = req.get("interrupts.irq_count", int)
    limit = MAX_NVIC_IRQS if cpu.family == "arm" else 4096
    if not 0 < irq_count <= limit:
        raise ProfileError(path, "interrupts.irq_count", f"{irq_count} is out of range",
                           f"give the number of interrupt lines (1..{limit})")
    priority_bits = req.get("interrupts.priority_bits", int)
    if not 1 <= priority_bits <= 8:
        raise ProfileError(path, "interrupts.priority_bits", f"{priority_bits} is out of range",
                           "give the implemented priority bits (1..8)")
    names = req.opt("interrupts.names", dict, {})
    handlers = req.opt("interrupts.handlers", dict, {})
    for table, entries in (("names", names), ("handlers", handlers)):
        for name, number in entries.items():
            # The name becomes a handler symbol in the generated vector table (C).
            if not C_IDENTIFIER.match(name):
                raise ProfileError(path, f"interrupts.{table}.{printable(name)}",
                                   "is not a C identifier",
                                   "use letters, digits and _ (not first a digit), e.g. UART0_IRQ")
            if not 0 <= number < irq_count:
                raise ProfileError(path, f"interrupts.{table}.{name}",
                                   f"IRQ {number} is outside 0..{irq_count - 1}",
                                   "correct the IRQ number or interrupts.irq_count")
    for table, entries in (("names", names), ("handlers", handlers)):
        seen: dict[int, str] = {}
        for name, number in entries.items():
            if number in seen:
                raise ProfileError(path, f"interrupts.{table}.{name}",
                                   f"IRQ {number} is already {seen[number]}",
                                   "give each interrupt line one entry")
            seen[number] = name
    ordered = tuple(sorted(names.items(), key=lambda item: item[1]))
    return Interrupts(controller=controller, irq_count=irq_count, priority_bits=priority_bits,
                      external=external, names=ordered,
                      handlers=tuple(sorted(handlers.items(), key=lambda item: item[1])))


def _placement(req: _Required, memory: tuple[MemoryRegion, ...]) -> Placement:
    boot = req.get("placement.boot", str)
    data = req.get("placement.data", str)
    boot_origin = next((r.origin for r in memory if r.name == boot), 0)
    return Placement(
        boot=boot,
        boot_address=req.opt("placement.boot_address", Size, boot_origin),
        text=req.opt("placement.text", str, boot),
        rodata=req.opt("placement.rodata", str, boot),
        data=data,
        bss=req.opt("placement.bss", str, data),
        heap=req.opt("placement.heap", str, data),
        heap_size=req.opt("placement.heap_size", Size, 0),
        boot2=req.opt("placement.boot2", str, ""),
        data_load=req.opt("placement.data_load", str, boot),
    )


def _stacks(req: _Required) -> StackPolicy:
    return StackPolicy(
        region=req.get("stacks.region", str),
        isr_size=req.get("stacks.isr_size", Size),
        thread_size=req.get("stacks.thread_size", Size),
        guard_size=req.get("stacks.guard_size", Size),
        watermark=req.opt("stacks.watermark", Size, 0xC5C5C5C5),
        layout=req.opt("stacks.layout", str, "top"),
    )


def _console(req: _Required, path: Path) -> Console:
    """The runtime's console; a QEMU board defaults to its [qemu] console (semihosting)."""
    default = req.opt("qemu.console", str, "semihosting") if req.opt("qemu", dict, None) \
        else "none"
    kind = _choice(path, "console.kind", req.opt("console.kind", str, default),
                   ("semihosting", "uart", "none"))
    if kind != "uart":
        return Console(kind=kind)
    uart = _choice(path, "console.uart", req.get("console.uart", str), UART_TYPES)
    base = req.get("console.base", Size)
    if not 0 <= base <= 0xFFFFFFFF:  # pasted into the runtime's C as a 32-bit address
        raise ProfileError(path, "console.base", f"{base:#x} is outside the 32-bit address "
                           "space", "give the UART's base address, e.g. 0x40004000")
    setup = req.opt("console.setup", str, "")
    if setup:
        _choice(path, "console.setup", setup, CONSOLE_SETUPS)
    return Console(kind=kind, uart=uart, base=base, setup=setup)


def _qemu(req: _Required) -> Qemu | None:
    if req.opt("qemu", dict, None) is None:
        return None
    return Qemu(machine=req.get("qemu.machine", str), binary=req.get("qemu.binary", str),
                console=req.opt("qemu.console", str, "semihosting"))


def check_semantics(profile: Profile, path: Path) -> None:
    """Rules that need the whole profile: references, alignment, sizes, MPU/PMP limits.

    Public so that a profile changed by a project's overrides is checked again.
    """
    names = {r.name for r in profile.memory}
    place = profile.placement
    for key, region, need in (
        ("placement.boot", place.boot, "x"),
        ("placement.text", place.text, "x"),
        ("placement.rodata", place.rodata, "r"),
        ("placement.data", place.data, "w"),
        ("placement.bss", place.bss, "w"),
        ("placement.heap", place.heap, "w"),
        ("placement.data_load", place.data_load, "r"),
        ("stacks.region", profile.stacks.region, "w"),
    ):
        if region not in names:
            raise ProfileError(path, key, f"no memory region '{region}'",
                               f"use one of: {', '.join(sorted(names))}")
        if need not in profile.region(region).attributes:
            raise ProfileError(path, key, f"region '{region}' is not '{need}'",
                               f"place it in a region with attribute '{need}'")
    boot = profile.region(place.boot)
    if place.boot2:
        _check_boot2(profile, path)
    if not boot.contains(place.boot_address, profile.vector_count * 4):
        raise ProfileError(path, "placement.boot_address",
                           f"0x{place.boot_address:08x} does not leave room for the vector "
                           f"table inside memory.{boot.name}",
                           "give an address inside the boot region")
    if profile.cpu.family == "arm" and place.boot_address % profile.vector_align:
        raise ProfileError(path, "placement.boot_address",
                           f"0x{place.boot_address:08x} is not aligned to "
                           f"{profile.vector_align} bytes as VTOR requires for "
                           f"{profile.vector_count} vectors",
                           f"align the boot address to {profile.vector_align}")
    _check_stacks(profile, path)
    if profile.qemu is not None:
        _choice(path, "qemu.console", profile.qemu.console, CONSOLES)


def _check_boot2(profile: Profile, path: Path) -> None:
    """A second-stage boot fills the start of the boot region; the vector table follows
    it (the RP2040's boot2 vectors through the table at flash + 0x100, datasheet 2.8.1)."""
    place = profile.placement
    _choice(path, "placement.boot2", place.boot2, BOOT2_KINDS)
    if profile.cpu.family != "arm":
        raise ProfileError(path, "placement.boot2", f"'{place.boot2}' is an Arm boot2",
                           "remove placement.boot2")
    want = profile.region(place.boot).origin + BOOT2_SIZE[place.boot2]
    if place.boot_address != want:
        raise ProfileError(path, "placement.boot_address",
                           f"0x{place.boot_address:08x} is not right after the "
                           f"{BOOT2_SIZE[place.boot2]}-byte boot2",
                           f"set placement.boot_address = 0x{want:08X}")


def _check_stacks(profile: Profile, path: Path) -> None:
    stacks = profile.stacks
    _choice(path, "stacks.layout", stacks.layout, STACK_LAYOUTS)
    # AAPCS keeps SP 8-byte aligned at public interfaces; the RISC-V psABI wants 16.
    align = 16 if profile.cpu.family == "riscv" else 8
    for key, size in (("stacks.isr_size", stacks.isr_size), ("stacks.thread_size", stacks.thread_size)):
        if size <= 0 or size % align:
            raise ProfileError(path, key, f"{size} is not a positive multiple of {align}",
                               f"round the stack size up to a multiple of {align}")
    if not 0 <= stacks.watermark <= 0xFFFFFFFF:
        raise ProfileError(path, "stacks.watermark", "must fit in 32 bits",
                           "use a 32-bit pattern such as 0xC5C5C5C5")
    _check_guard(profile, path)
    region = profile.region(stacks.region)
    # Worst case: each guard may waste up to its own size to alignment.
    needed = stacks.isr_size + stacks.thread_size + 4 * stacks.guard_size
    if needed > region.length:
        raise ProfileError(path, "stacks.isr_size",
                           f"stacks and guards need up to {needed} bytes but memory."
                           f"{region.name} has {region.length}",
                           "shrink the stacks or move them to a bigger region (stacks.region)")
    if stacks.layout == "flip" and (region.origin % stacks.guard_size
                                    or region.origin < stacks.guard_size):
        raise ProfileError(path, "stacks.layout",
                           f"flip layout puts the interrupt guard below 0x{region.origin:08x}, "
                           f"which is not aligned to the {stacks.guard_size}-byte guard",
                           'use layout = "top" or a guard size that divides the region origin')


def _check_guard(profile: Profile, path: Path) -> None:
    guard = profile.stacks.guard_size
    kind = profile.protection.kind
    frame = profile.cpu.exception_frame
    if not is_power_of_two(guard):
        raise ProfileError(path, "stacks.guard_size", f"{guard} is not a power of two",
                           "MPU regions and PMP NAPOT ranges are powers of two; use e.g. 128")
    if kind in PMSA_MIN_REGION and guard < PMSA_MIN_REGION[kind]:
        minimum = PMSA_MIN_REGION[kind]
        where = "ARM DDI 0419E B3.5.9" if kind == "pmsav6" else "ARM DDI 0403E B3.5.8"
        raise ProfileError(path, "stacks.guard_size",
                           f"{guard} is below the {minimum}-byte MPU minimum ({kind})",
                           f"use {minimum} or more ({where})")
    if kind == "pmp" and guard < max(8, profile.protection.granularity):
        raise ProfileError(path, "stacks.guard_size",
                           f"{guard} is below the NAPOT minimum of "
                           f"{max(8, profile.protection.granularity)} bytes",
                           "use a larger power of two")
    if guard < frame:
        what = ("the FP exception frame" if profile.cpu.has_fpu and profile.cpu.family == "arm"
                else "the exception frame")
        raise ProfileError(path, "stacks.guard_size",
                           f"{guard} bytes is smaller than {what} ({frame} bytes), so one "
                           "interrupt entry could step over the guard",
                           f"use at least {1 << (frame - 1).bit_length()}")
