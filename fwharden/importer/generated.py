"""What `import-makefile --linker generated` must decide about a vendor project.

A CubeMX project brings its own start-up file (vector table, Reset_Handler, .data/.bss
set-up), its own linker script (one stack of `_Min_Stack_Size` under the top of RAM, a heap
of `_Min_Heap_Size` that `_sbrk` in sysmem.c bounds with `_estack - _Min_Stack_Size`) and
its own fault handlers in `stm32*_it.c`. fwharden's generated mode replaces the first two;
this module finds them, reads the sizes, sees which fault handlers the project keeps, and
chooses the RAM for the stacks with a stated reason. It reads the project's files and
returns values; the caller writes firmware.toml.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from fwharden.board_profiles import Profile

_STARTUP = re.compile(r"^\s*(Reset_Handler\s*:|\.section\s+\.isr_vector\b|g_pfnVectors\s*:)",
                      re.MULTILINE)
_LD_SIZE = re.compile(r"\b(_Min_Stack_Size|_Min_Heap_Size)\s*=\s*(0[xX][0-9a-fA-F]+|\d+)\s*;")
# The fault vectors fwharden's runtime defines (weakly) itself: runtime/cortex_m/guard.c.
_FAULTS = ("HardFault_Handler", "MemManage_Handler", "BusFault_Handler", "UsageFault_Handler")
_DEFINITION = r"\b{name}\s*\(\s*(void)?\s*\)\s*\{{"
# DMA use that can put a stack buffer in front of a DMA controller: HAL's *_DMA calls, the
# handle variables CubeMX writes (hdma_usart2_rx), DMA stream/channel handlers.
# Register use (DMA2_Stream5->CR) counts too. Vendor library trees (CubeMX's Drivers/ and
# Middlewares/) define every HAL_*_DMA function whether the project uses it or not: not read.
_DMA = re.compile(r"\bHAL_\w+_DMA\s*\(|\bhdma_\w+|\b(BD|G|M)?DMA\d*_(Stream|Channel)\d+(_IRQHandler\b|\s*->)")
_LIBRARY_DIRS = ("Drivers", "Middlewares")
_CXX_SUFFIXES = (".cpp", ".cc", ".cxx", ".C")


@dataclass
class GeneratedPlan:
    sources: list[str]                     # the project's sources without the start-up file
    dropped: list[str]                     # start-up files that leave the build
    stack_size: int | None                 # _Min_Stack_Size of the vendor linker script
    heap_size: int | None                  # _Min_Heap_Size
    region: str                            # where the stacks go
    region_reason: str
    faults: list[tuple[str, str]] = field(default_factory=list)  # (handler, file:line)
    constructors: bool = False             # C++ sources: run .init_array before main
    ldflags: list[str] = field(default_factory=list)   # symbols sysmem.c's _sbrk expects


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""


def _line_of(text: str, position: int) -> int:
    return text.count("\n", 0, position) + 1


def plan_generated(root: Path, sources: list[str], ldscript: str | None,
                   profile: Profile) -> GeneratedPlan:
    texts = {s: _read(root / s) for s in sources}
    dropped = [s for s in sources if s.lower().endswith((".s", ".sx")) and _STARTUP.search(texts[s])]
    kept = [s for s in sources if s not in dropped]
    sizes: dict[str, int] = {}
    if ldscript:
        for name, value in _LD_SIZE.findall(_read(root / ldscript)):
            sizes[name] = int(value, 0)
    faults = []
    for handler in _FAULTS:
        pattern = re.compile(_DEFINITION.format(name=handler))
        for source in kept:
            match = pattern.search(texts[source])
            if match:
                faults.append((handler, f"{source}:{_line_of(texts[source], match.start())}"))
                break
    own = [s for s in kept if Path(s).parts[:1] not in [(d,) for d in _LIBRARY_DIRS]]
    dma = next((f"{s}:{_line_of(texts[s], m.start())} ({m.group(0).rstrip('(->').strip()})"
                for s in own if (m := _DMA.search(texts[s]))), None)
    region, reason = _stack_region(profile, dma)
    plan = GeneratedPlan(sources=kept, dropped=dropped, stack_size=sizes.get("_Min_Stack_Size"),
                         heap_size=sizes.get("_Min_Heap_Size"), region=region,
                         region_reason=reason, faults=faults,
                         constructors=any(s.endswith(_CXX_SUFFIXES) for s in kept))
    if plan.stack_size is not None:
        # CubeMX's sysmem.c: _sbrk stops at `_estack - _Min_Stack_Size`. With these two
        # symbols that limit is fwharden's heap end, so the heap keeps its bound.
        plan.ldflags = [f"-Wl,--defsym=_Min_Stack_Size=0x{plan.stack_size:x}",
                        f"-Wl,--defsym=_estack=__fwh_heap_end+0x{plan.stack_size:x}"]
    return plan


def _dma_reachable(profile: Profile, name: str) -> bool:
    """The profile notes a CPU-only RAM as "no DMA" (F407 CCM: RM0090 2.3.1; H743 DTCM: RM0433
    2.1, DMA1/DMA2 reach only the D2/D1 SRAMs; i.MX RT DTCM is reachable through FlexRAM)."""
    note = profile.region(name).note.lower()
    return "no dma" not in note


def _stack_region(profile: Profile, dma: str | None) -> tuple[str, str]:
    default = profile.stacks.region
    if _dma_reachable(profile, default):
        return default, (f"the board's stack RAM {default}, which DMA can reach")
    if dma is None:
        return default, (f"{default} (the board's stack RAM: fast, CPU only, no DMA): no DMA use "
                         "was found in the sources; if a DMA transfer ever uses a stack buffer, "
                         f"set [stacks] region = \"{profile.placement.data}\"")
    data = profile.placement.data
    return data, (f"{data}, not {default}: the project uses DMA ({dma}) and {default} cannot be "
                  "reached by DMA, so a DMA buffer on a stack would silently not transfer")
