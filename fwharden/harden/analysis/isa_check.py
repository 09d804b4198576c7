"""Instructions the board's core does not have: AMO/LR/SC on a RISC-V core without the A
extension (the ESP32-C3 is RV32IMC).

On such a core each of them raises an illegal-instruction exception (RISC-V unprivileged
spec 20191213, chapter 8 "A" extension; privileged spec 3.1.15, cause 2), so a firmware
that holds one, typically from a library built for rv32imac or `__atomic_*` code compiled
with -march=rv32imac, faults the first time it runs. Every function of the image is read,
not only the ones a root reaches: a thread-only path faults too.
"""

from __future__ import annotations

from dataclasses import dataclass

from fwharden.board_profiles import Profile
from fwharden.harden.elf.image import Image
from fwharden.harden.isa.rv32 import CAPSTONE_RV


@dataclass(frozen=True)
class Mismatch:
    """One instruction the core lacks."""

    function: str
    address: int
    mnemonic: str


def has_a_extension(arch: str) -> bool:
    """Whether an `rv32...` ISA string names the A extension (G includes it)."""
    letters = arch[4:].split("_")[0]
    return "a" in letters or "g" in letters


def _is_atomic(mnemonic: str) -> bool:
    base = mnemonic.split(".")[0]
    return base.startswith("amo") or base in ("lr", "sc")


def atomics_without_a(image: Image, profile: Profile | None) -> list[Mismatch]:
    """Each AMO/LR/SC in the image's functions when the board's core has no A extension."""
    if profile is None or profile.cpu.family != "riscv" or image.family != "riscv" \
            or has_a_extension(profile.cpu.arch):
        return []
    found = []
    for func in image.functions:
        code = image.read(func.address, func.size)
        if not code:
            continue
        for address, _size, mnemonic, _ops in CAPSTONE_RV.disasm_lite(code, func.address):
            if _is_atomic(mnemonic):
                found.append(Mismatch(func.name, address, mnemonic))
    return found
