"""The RP2040 boot2 block: 252 bytes of code and the CRC32 the boot ROM checks.

RP2040 datasheet 2.8.1.3.1: the boot ROM computes a CRC32 over the first 252 bytes of
flash and compares it with the little-endian word in bytes 252..255; only on a match does
it run the block. The CRC is the "MPEG-2" variant: polynomial 0x04C11DB7, processed MSB
first (not reflected), initial value 0xFFFFFFFF, no final XOR. (zlib's crc32 is the
reflected variant with a final XOR, so it does not apply.)

The code comes from runtime/rp2040/boot2.S, assembled into an object; the build takes its
one code section, refuses relocations (the ROM runs the block from SRAM, not where it was
linked), pads it and renders a C array that the linker script puts at the start of flash.
"""

from __future__ import annotations

from pathlib import Path

from elftools.common.exceptions import ELFError
from elftools.elf.elffile import ELFFile

BOOT2_SIZE = 256
CODE_SIZE = BOOT2_SIZE - 4
SECTION = ".text.fwh_boot2"
POLY = 0x04C11DB7


class Boot2Error(Exception):
    """The boot2 object cannot become a boot2 block: one line naming the file and why."""


def crc32_mpeg2(data: bytes) -> int:
    """CRC32, polynomial 0x04C11DB7, MSB first, init 0xFFFFFFFF, no final XOR."""
    crc = 0xFFFFFFFF
    for byte in data:
        crc ^= byte << 24
        for _ in range(8):
            crc = ((crc << 1) ^ POLY if crc & 0x80000000 else crc << 1) & 0xFFFFFFFF
    return crc


def boot2_block(code: bytes) -> bytes:
    """`code` padded with zeros to 252 bytes, then its CRC32 (little-endian)."""
    if len(code) > CODE_SIZE:
        raise Boot2Error(f"boot2 code is {len(code)} bytes, more than the {CODE_SIZE} the "
                         "boot ROM checks")
    body = code + bytes(CODE_SIZE - len(code))
    return body + crc32_mpeg2(body).to_bytes(4, "little")


def code_from_object(path: Path) -> bytes:
    """The bytes of the boot2 code section of an assembled object; refuses relocations
    against it (position-dependent code would break when the ROM runs it from SRAM)."""
    try:
        with path.open("rb") as stream:
            elf = ELFFile(stream)
            section = elf.get_section_by_name(SECTION)
            if section is None:
                raise Boot2Error(f"{path}: no section {SECTION}")
            index = elf.get_section_index(SECTION)
            for other in elf.iter_sections():
                if other["sh_type"] in ("SHT_REL", "SHT_RELA") and other["sh_info"] == index \
                        and other.num_relocations():
                    raise Boot2Error(f"{path}: {SECTION} has {other.num_relocations()} "
                                     "relocations; boot2 must be position-independent")
            return section.data()
    except (OSError, ELFError) as exc:
        raise Boot2Error(f"{path}: cannot read it as an ELF object ({exc})") from None


def render_boot2_c(block: bytes, header: str) -> str:
    """C source holding the 256-byte block in section .boot2 (placed by the linker script
    at the start of flash)."""
    rows = [", ".join(f"0x{b:02x}" for b in block[i:i + 12]) for i in range(0, len(block), 12)]
    body = ",\n    ".join(rows)
    crc = int.from_bytes(block[CODE_SIZE:], "little")
    return (f"/* {header}.\n"
            " * RP2040 boot2: runtime/rp2040/boot2.S assembled, padded to 252 bytes, then the\n"
            f" * CRC32 0x{crc:08x} the boot ROM checks (RP2040 datasheet 2.8.1.3.1).\n"
            " */\n"
            "#include <stdint.h>\n\n"
            '__attribute__((section(".boot2"), used, aligned(4)))\n'
            f"const uint8_t fwh_boot2[{BOOT2_SIZE}] = {{\n    {body}\n}};\n")
