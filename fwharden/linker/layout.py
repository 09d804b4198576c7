"""`Profile -> Layout`: every stack, guard and watermark region placed at an address.

The stacks get exact addresses here, in Python, so that the linker script, the report and
(later) the stack map all read the same numbers, and so the MPU/PMP rules are applied once.
Sections whose size only the linker knows (.text, .data, .bss, heap) are placed by region;
the linker script's ASSERTs check what cannot be known before the link.

Must not: read files, run tools, or print.
"""

from __future__ import annotations

from dataclasses import dataclass

from fwharden.board_profiles import MemoryRegion, Profile, ProfileError

# Bytes reserved in flash for the stack map that the post-link step fills in
# (header + one descriptor per stack; see the runtime's stack map format).
STACKMAP_SIZE = 256
# Bytes of one mirror snapshot slot per stack: a word count and eight saved words, padded
# to 8 bytes.
MIRROR_SIZE = 40


def align_down(value: int, alignment: int) -> int:
    return value - value % alignment


def align_up(value: int, alignment: int) -> int:
    return align_down(value + alignment - 1, alignment)


@dataclass(frozen=True)
class Span:
    """A half-open address range [start, start + size)."""

    start: int
    size: int

    @property
    def end(self) -> int:
        return self.start + self.size

    def overlaps(self, other: Span) -> bool:
        return self.start < other.end and other.start < self.end


@dataclass(frozen=True)
class StackBlock:
    """One stack with its no-access guard below it and its painted watermark span.

    The stack grows down from `stack.end` towards `stack.start`; `guard` lies directly below
    `stack.start`, aligned to its own size (ARMv7-M MPU, RISC-V PMP NAPOT).
    """

    name: str          # "isr" or "thread": used in symbol names
    title: str
    stack: Span
    guard: Span
    watermark: Span
    requested: int     # size asked for; `stack.size` may be larger because of guard alignment

    @property
    def top(self) -> int:
        return self.stack.end


@dataclass(frozen=True)
class RegionUse:
    """A profile region as the linker script declares it (minus a carved-out stack block)."""

    name: str          # MEMORY name in the script (upper case)
    source: MemoryRegion
    origin: int
    length: int


@dataclass(frozen=True)
class Layout:
    """Everything the linker script (and later the stack map) needs, with addresses."""

    profile: Profile
    regions: tuple[RegionUse, ...]
    stack_region: RegionUse          # the MEMORY entry that holds only the stack block
    isr: StackBlock
    thread: StackBlock
    flip: bool
    stackmap_size: int = STACKMAP_SIZE
    mirror_size: int = MIRROR_SIZE

    @property
    def stacks(self) -> tuple[StackBlock, ...]:
        return (self.isr, self.thread)

    def memory_name(self, profile_region: str) -> str:
        """MEMORY name of the (remaining part of the) profile region `profile_region`."""
        for use in self.regions:
            if use.source.name == profile_region:
                return use.name
        raise KeyError(profile_region)


def build_layout(profile: Profile) -> Layout:
    """Place the stack block in the profile's stack region (top of it, or bottom for flip)."""
    policy = profile.stacks
    region = profile.region(policy.region)
    guard = policy.guard_size
    flip = policy.layout == "flip"
    if flip:
        isr, thread = _flip_blocks(region, policy.isr_size, policy.thread_size, guard)
        block = Span(isr.stack.start, thread.top - isr.stack.start)
    else:
        isr, thread = _top_blocks(region, policy.isr_size, policy.thread_size, guard)
        block = Span(thread.guard.start, isr.top - thread.guard.start)
    if block.start < region.origin or block.end > region.end:
        raise ProfileError(profile.source, "stacks.isr_size",
                           f"the stack block 0x{block.start:08x}-0x{block.end:08x} does not fit "
                           f"in memory.{region.name}", "shrink the stacks or the guard")
    regions = []
    stack_use = RegionUse(name="FWH_STACKS", source=region, origin=block.start, length=block.size)
    for item in profile.memory:
        name = item.name.upper()
        if item is region:
            if flip:
                regions.append(RegionUse(name, item, block.end, item.end - block.end))
            else:
                regions.append(RegionUse(name, item, item.origin, block.start - item.origin))
        else:
            regions.append(RegionUse(name, item, item.origin, item.length))
    return Layout(profile=profile, regions=tuple(regions), stack_region=stack_use,
                  isr=isr, thread=thread, flip=flip)


def _block(name: str, title: str, guard_start: int, guard: int, top: int,
           requested: int) -> StackBlock:
    # The painted span is the whole stack: the runtime paints up to its current SP.
    stack = Span(guard_start + guard, top - guard_start - guard)
    return StackBlock(name=name, title=title, stack=stack, guard=Span(guard_start, guard),
                      watermark=Span(stack.start, stack.size), requested=requested)


def _top_blocks(region: MemoryRegion, isr_size: int, thread_size: int, guard: int
                ) -> tuple[StackBlock, StackBlock]:
    """Interrupt stack at the very top of the region, thread stack below its guard.

    The guard base must be aligned to the guard size, so a stack grows downwards to the
    next aligned address: it may be larger than requested, never smaller.
    """
    isr_top = align_down(region.end, 8)
    isr_guard = align_down(isr_top - isr_size - guard, guard)
    thread_top = isr_guard
    thread_guard = align_down(thread_top - thread_size - guard, guard)
    return (
        _block("isr", "interrupt stack (MSP / mscratch)", isr_guard, guard, isr_top, isr_size),
        _block("thread", "thread stack (PSP / sp)", thread_guard, guard, thread_top,
               thread_size),
    )


def _flip_blocks(region: MemoryRegion, isr_size: int, thread_size: int, guard: int
                 ) -> tuple[StackBlock, StackBlock]:
    """flip-link style: the interrupt stack at the bottom, so an overflow leaves the region.

    Its guard lies just below the region's origin (outside the RAM): on hardware where that
    address is unmapped the overflow faults anyway; the MPU/PMP guard makes it fault where
    the bus ignores the access (MPS2: RAZ/WI below each SSRAM bank).
    """
    isr_guard = region.origin - guard
    isr_top = align_up(region.origin + isr_size, guard)
    thread_guard = isr_top
    thread_top = thread_guard + guard + thread_size
    return (
        _block("isr", "interrupt stack (MSP / mscratch)", isr_guard, guard, isr_top, isr_size),
        _block("thread", "thread stack (PSP / sp)", thread_guard, guard, thread_top,
               thread_size),
    )
