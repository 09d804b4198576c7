"""Typed, frozen model of a board profile.

A `Profile` is what every later stage receives: the toolchain turns it into flags, the
linker package turns it into a layout. It holds values only; reading TOML and checking it
is `loader.py`'s job, so the rest of the pipeline never sees a dict.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from .probe import Debug, Flash

ARM_ARCHES = ("armv6-m", "armv7-m", "armv7e-m", "armv8-m.main")
RISCV_ARCHES = ("rv32imac", "rv32imc", "rv32imafc")

# Bytes a Cortex-M core pushes on exception entry (ARM DDI 0403E B1.5.7): the basic frame
# is 8 words (R0-R3, R12, LR, PC, xPSR); the extended frame adds S0-S15, FPSCR and a
# reserved word = 26 words. With CCR.STKALIGN the core may insert one more word to
# 8-align the frame (B1.5.7, "Stack alignment on exception entry"). The only home of
# these numbers: the verifier and the profile checks both call `arm_exception_frame`.
ARM_BASIC_FRAME = 32
ARM_FP_FRAME = 104
ARM_ALIGN_PAD = 4


def arm_exception_frame(fp_context: bool, *, align_pad: bool = False) -> int:
    """The frame stacked on entry; `fp_context`: CONTROL.FPCA was set (an FP instruction ran
    since the context was last stacked), `align_pad`: include the possible alignment word."""
    return (ARM_FP_FRAME if fp_context else ARM_BASIC_FRAME) + (ARM_ALIGN_PAD if align_pad else 0)


# fwharden's RISC-V trap entry saves ra, t0-t6 and a0-a7 (16 words) on the interrupt stack
# before it calls C; the hardware itself pushes nothing.
RISCV_TRAP_FRAME = 64


@dataclass(frozen=True)
class Cpu:
    """The core: what the compiler must target and what the hardware pushes on a trap."""

    arch: str
    core: str
    fpu: str = "none"
    float_abi: str = "soft"

    @property
    def family(self) -> str:
        """'arm' or 'riscv': the two instruction-set families fwharden knows."""
        return "riscv" if self.arch.startswith("rv") else "arm"

    @property
    def has_fpu(self) -> bool:
        return self.fpu != "none"

    def fp_context_possible(self, code_uses_fp: bool = True) -> bool:
        """Whether an exception can stack the extended (FP) frame.

        The core stacks it when CONTROL.FPCA is set, which only an FP instruction that ran
        sets (B1.4.4 CONTROL, B1.5.7), and an FP instruction runs only after CPACR grants
        CP10/CP11 (B3.2.20). fwharden's reset code grants it when float_abi is not "soft";
        with float_abi = "soft" the frame is still extended if linked code uses FP anyway
        (a softfp library, hand-written VFP code) and enables the FPU itself, which is what
        `code_uses_fp` (the ELF's build attributes) says. Without that knowledge (True, the
        default) the answer is the worst the core can do.
        """
        return self.family == "arm" and self.has_fpu and (self.float_abi != "soft"
                                                           or code_uses_fp)

    @property
    def exception_frame(self) -> int:
        """Largest frame the core (or our RISC-V trap entry) pushes on interrupt entry, for
        any firmware on this core (guards must catch it)."""
        if self.family == "riscv":
            return RISCV_TRAP_FRAME
        return arm_exception_frame(self.fp_context_possible())


@dataclass(frozen=True)
class MemoryRegion:
    """One region of the memory map, as the vendor's reference manual gives it."""

    name: str
    origin: int
    length: int
    attributes: str
    note: str = ""

    @property
    def end(self) -> int:
        """First address past the region."""
        return self.origin + self.length

    @property
    def executable(self) -> bool:
        return "x" in self.attributes

    @property
    def writable(self) -> bool:
        return "w" in self.attributes

    def contains(self, start: int, size: int = 1) -> bool:
        return self.origin <= start and start + size <= self.end


@dataclass(frozen=True)
class Protection:
    """The memory-protection hardware that enforces stack guards.

    kind: "pmsav6" (the optional ARMv6-M MPU, e.g. the RP2040's Cortex-M0+: regions of at
    least 256 bytes, DDI 0419E B3.5), "pmsav7" (ARMv7-M MPU), "pmsav8" (ARMv8-M MPU,
    with the MSPLIM/PSPLIM stack limits), "pmp" (RISC-V physical memory protection) or "none"
    (guards are then only a painted no-go zone that software checks).
    """

    kind: str
    regions: int = 0
    granularity: int = 4


@dataclass(frozen=True)
class Interrupts:
    """The interrupt controller and the interrupt lines the vector table must cover.

    `names` are the vendor's names of the lines (the CMSIS header's `<NAME>_IRQn`);
    `handlers` the few lines whose start-up file installs a handler not called
    `<NAME>_IRQHandler` (STM32F407's HASH_RNG_IRQHandler for RNG, GD32's eclic_mtip_handler).
    """

    controller: str
    irq_count: int
    priority_bits: int
    external: str = ""
    names: tuple[tuple[str, int], ...] = ()
    handlers: tuple[tuple[str, int], ...] = ()

    def name_of(self, irq: int) -> str:
        """The peripheral name of an IRQ line, or a numbered one (IRQ42)."""
        for name, number in self.names:
            if number == irq:
                return name
        return f"IRQ{irq}"

    def handler_of(self, irq: int) -> str:
        """The handler symbol the vendor's start-up file installs for a line: an explicit
        `handlers` entry, else `<NAME>_IRQHandler`, else `IRQ<n>_Handler` (unnamed)."""
        for handler, number in self.handlers:
            if number == irq:
                return handler
        name = self.name_of(irq)
        return f"{name}_IRQHandler" if name != f"IRQ{irq}" else f"IRQ{irq}_Handler"


@dataclass(frozen=True)
class Placement:
    """Which region holds which output section."""

    boot: str
    boot_address: int
    text: str
    rodata: str
    data: str
    bss: str
    heap: str
    heap_size: int
    # A second-stage boot the boot ROM loads from the start of the boot region ("rp2040":
    # 256 bytes with a CRC32, RP2040 datasheet 2.8.1.3); the vector table follows it.
    boot2: str = ""
    # Where .data's initial values are loaded (default: the boot region). ESP32-C3: "dram",
    # the same place, as the 2nd-stage bootloader loads every segment at its address.
    data_load: str = ""


@dataclass(frozen=True)
class StackPolicy:
    """Sizes and placement of the interrupt and thread stacks and their guards."""

    region: str
    isr_size: int
    thread_size: int
    guard_size: int
    watermark: int
    layout: str = "top"


@dataclass(frozen=True)
class Console:
    """Where the runtime's text (FWH-FAULT lines, fwh_puts) goes on this board.

    kind: "semihosting" (a debugger or QEMU), "uart" (`uart` names the peripheral type:
    "cmsdk" for Arm's CMSDK UART, "sifive" for SiFive's UART, "stm32" for an STM32 USART
    with ISR/TDR registers, "stm32f4" for the older SR/DR layout, "lpuart" for NXP's LPUART,
    "pl011" for Arm's PrimeCell UART)
    or "none".
    """

    kind: str = "none"
    uart: str = ""
    base: int = 0
    # Resets, clocks and pins the runtime sets up before its first character ("rp2040":
    # runtime/rp2040/console_setup.c); empty = the application or QEMU has done it.
    setup: str = ""


@dataclass(frozen=True)
class Qemu:
    """How to run this board under QEMU (only for boards QEMU emulates)."""

    machine: str
    binary: str
    console: str


@dataclass(frozen=True)
class Profile:
    """A fully resolved, validated board profile."""

    name: str
    title: str
    reference: str
    source: Path
    cpu: Cpu
    protection: Protection
    memory: tuple[MemoryRegion, ...]
    interrupts: Interrupts
    placement: Placement
    stacks: StackPolicy
    qemu: Qemu | None = None
    inherits: tuple[str, ...] = field(default=())
    console: Console = Console()
    flash: Flash | None = None      # [flash]: tool and probe (none for QEMU boards)
    debug: Debug | None = None      # [debug]: the GDB server `scons debug` starts

    def region(self, name: str) -> MemoryRegion:
        """The region called `name`; the loader has already checked that it exists."""
        for region in self.memory:
            if region.name == name:
                return region
        raise KeyError(name)

    @property
    def vector_count(self) -> int:
        """Entries in the vector table (ARM: 16 system words + IRQs; RISC-V: cause codes)."""
        if self.cpu.family == "arm":
            return 16 + self.interrupts.irq_count
        if self.interrupts.controller in ("eclic", "intmatrix"):
            return self.interrupts.irq_count
        # CLINT direct/vectored: one entry per machine-level interrupt cause 0..15.
        return 16

    @property
    def vector_align(self) -> int:
        """Alignment the vector table needs.

        ARMv7-M VTOR (ARM DDI 0403E B3.2.5): the table is aligned to the next power of two
        of its size, at least 128 bytes. ECLIC's mtvt likewise needs the table size rounded
        up to a power of two (at least 64 bytes); a CLINT vectored mtvec needs 64 bytes on
        SiFive cores.
        """
        minimum = 128 if self.cpu.family == "arm" else 64
        return max(minimum, next_power_of_two(self.vector_count * 4))


def next_power_of_two(value: int) -> int:
    """Smallest power of two >= value (value >= 1)."""
    return 1 << (max(value, 1) - 1).bit_length()


def is_power_of_two(value: int) -> bool:
    return value > 0 and value & (value - 1) == 0
