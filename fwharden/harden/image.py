"""Open a linked ELF with pyelftools and turn every way it can be unusable into HardenError.

Later stages (vector table, call graph, stack map) start from `open_elf`; it checks the
things all of them assume: an ELF32 executable for ARM or RISC-V with a symbol table.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from elftools.common.exceptions import ELFError
from elftools.elf.elffile import ELFFile

from .errors import HardenError

MACHINES = {"EM_ARM": "arm", "EM_RISCV": "riscv"}


@contextmanager
def open_elf(path: Path) -> Iterator[ELFFile]:
    """An open ELFFile for a 32-bit ARM or RISC-V executable; HardenError otherwise."""
    try:
        stream = path.open("rb")
    except OSError as exc:
        raise HardenError(f"{path}: cannot open ({exc.strerror})") from None
    with stream:
        try:
            elf = ELFFile(stream)
            machine = elf["e_machine"]
        except (ELFError, ValueError, OSError) as exc:
            raise HardenError(f"{path}: not an ELF file ({exc})") from None
        if machine not in MACHINES or elf.elfclass != 32:
            raise HardenError(f"{path}: {machine} ELF{elf.elfclass} is not a 32-bit ARM or "
                              "RISC-V firmware")
        yield elf


def elf_family(elf: ELFFile) -> str:
    return MACHINES[elf["e_machine"]]
