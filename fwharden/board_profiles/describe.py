"""Turn profiles into plain data (for --json) and text (for people). Never prints."""

from __future__ import annotations

from typing import Any

from .model import Profile


def _size(value: int) -> str:
    if value == 0:
        return "0"
    if value % (1 << 20) == 0:
        return f"{value >> 20}M"
    if value % (1 << 10) == 0:
        return f"{value >> 10}K"
    return str(value)


def profile_summary(profile: Profile) -> dict[str, Any]:
    """One row of `fwharden boards`."""
    # The boot region holds the image; every other writable region counts as RAM.
    boot = profile.region(profile.placement.boot)
    ram = sum(r.length for r in profile.memory if r.writable and r is not boot)
    return {
        "name": profile.name,
        "core": profile.cpu.core,
        "arch": profile.cpu.arch,
        "fpu": profile.cpu.fpu,
        "interrupts": profile.interrupts.controller,
        "boot_region": boot.length,
        "ram": ram,
        "qemu": profile.qemu.machine if profile.qemu else None,
        "title": profile.title,
    }


def describe_boards(rows: list[dict[str, Any]]) -> str:
    header = f"{'board':<12} {'core':<11} {'fpu':<12} {'irq':<6} {'boot':>6} {'ram':>6}  qemu"
    lines = [header]
    for row in rows:
        lines.append(f"{row['name']:<12} {row['core']:<11} {row['fpu']:<12} "
                     f"{row['interrupts']:<6} {_size(row['boot_region']):>6} {_size(row['ram']):>6}  "
                     f"{row['qemu'] or '-'}")
    return "\n".join(lines) + "\n"


def profile_to_dict(profile: Profile) -> dict[str, Any]:
    """The resolved profile as JSON-ready data (inheritance already applied)."""
    return {
        "name": profile.name,
        "title": profile.title,
        "reference": profile.reference,
        "inherits": list(profile.inherits),
        "cpu": {"arch": profile.cpu.arch, "core": profile.cpu.core, "fpu": profile.cpu.fpu,
                "float_abi": profile.cpu.float_abi,
                "exception_frame": profile.cpu.exception_frame},
        "protection": {"kind": profile.protection.kind, "regions": profile.protection.regions,
                       "granularity": profile.protection.granularity},
        "memory": [{"name": r.name, "origin": r.origin, "length": r.length,
                    "attributes": r.attributes, "note": r.note} for r in profile.memory],
        "interrupts": {"controller": profile.interrupts.controller,
                       "external": profile.interrupts.external or None,
                       "irq_count": profile.interrupts.irq_count,
                       "priority_bits": profile.interrupts.priority_bits,
                       "vector_count": profile.vector_count,
                       "names": dict(profile.interrupts.names),
                       "handlers": dict(profile.interrupts.handlers),
                       "lines": _lines(profile)},
        "placement": {"boot": profile.placement.boot,
                      "boot_address": profile.placement.boot_address,
                      "text": profile.placement.text, "rodata": profile.placement.rodata,
                      "data": profile.placement.data, "bss": profile.placement.bss,
                      "heap": profile.placement.heap, "heap_size": profile.placement.heap_size},
        "stacks": {"region": profile.stacks.region, "isr_size": profile.stacks.isr_size,
                   "thread_size": profile.stacks.thread_size,
                   "guard_size": profile.stacks.guard_size,
                   "watermark": profile.stacks.watermark, "layout": profile.stacks.layout},
        "qemu": ({"machine": profile.qemu.machine, "binary": profile.qemu.binary,
                  "console": profile.qemu.console} if profile.qemu else None),
        "console": {"kind": profile.console.kind, "uart": profile.console.uart or None,
                    "base": profile.console.base or None},
    }


def describe_profile(profile: Profile) -> str:
    """Readable form of a resolved profile."""
    cpu = profile.cpu
    lines = [
        f"{profile.name}: {profile.title}",
        f"  reference   {profile.reference}",
    ]
    if profile.inherits:
        lines.append(f"  inherits    {', '.join(profile.inherits)}")
    lines += [
        f"  cpu         {cpu.core} ({cpu.arch}), fpu {cpu.fpu}, float ABI {cpu.float_abi}, "
        f"exception frame {cpu.exception_frame} B",
        f"  protection  {profile.protection.kind}"
        + (f", {profile.protection.regions} regions" if profile.protection.regions else ""),
        f"  interrupts  {profile.interrupts.controller}"
        + (f" + {profile.interrupts.external}" if profile.interrupts.external else "")
        + f", {profile.interrupts.irq_count} lines, {profile.interrupts.priority_bits} "
        f"priority bits, {profile.vector_count} vectors",
        "  memory",
    ]
    for r in profile.memory:
        note = f"  {r.note}" if r.note else ""
        lines.append(f"    {r.name:<12} 0x{r.origin:08x}-0x{r.end:08x} {_size(r.length):>6} "
                     f"{r.attributes:<3}{note}")
    p = profile.placement
    lines += [
        f"  placement   vectors at 0x{p.boot_address:08x} in {p.boot}; text {p.text}, "
        f"rodata {p.rodata}, data {p.data}"
        + (f" (loaded from {p.data_load})" if p.data_load and p.data_load != p.boot else "")
        + f", bss {p.bss}, heap {_size(p.heap_size)} in {p.heap}"
        + (f"; {p.boot2} boot2 at the start of {p.boot}" if p.boot2 else ""),
        f"  stacks      in {profile.stacks.region}: isr {_size(profile.stacks.isr_size)}, "
        f"thread {_size(profile.stacks.thread_size)}, guard {profile.stacks.guard_size} B, "
        f"watermark 0x{profile.stacks.watermark:08x}, layout {profile.stacks.layout}",
    ]
    lines += _describe_lines(profile)
    console = profile.console
    lines.append(f"  console     {console.kind}" + (
        f" ({console.uart} UART at 0x{console.base:08x})" if console.kind == "uart" else ""))
    if profile.qemu:
        lines.append(f"  qemu        {profile.qemu.binary} -M {profile.qemu.machine}, "
                     f"console {profile.qemu.console}")
    return "\n".join(lines) + "\n"


def _lines(profile: Profile) -> list[dict[str, object]]:
    """Each named interrupt line: number, vendor name and, where it is a vector, the handler
    symbol the table installs (PLIC sources are dispatched by MachineExternal_Handler)."""
    vectored = not profile.interrupts.external
    return [{"irq": number, "name": name,
             "handler": profile.interrupts.handler_of(number) if vectored else None}
            for name, number in sorted(profile.interrupts.names, key=lambda item: item[1])]


def _describe_lines(profile: Profile) -> list[str]:
    rows = _lines(profile)
    if not rows:
        return []
    named = len(rows)
    title = ("PLIC sources (dispatched by MachineExternal_Handler)"
             if profile.interrupts.external else "interrupt lines (vector: handler)")
    out = [f"  {title}: {named} named of {profile.interrupts.irq_count}"]
    for row in rows:
        handler = f"  {row['handler']}" if row["handler"] else ""
        out.append(f"    {row['irq']:>4}  {row['name']:<28}{handler}".rstrip())
    return out
