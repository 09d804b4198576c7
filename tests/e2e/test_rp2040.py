"""`scons board=rp2040` writes a firmware.uf2 a Pico's boot ROM takes.

Everything is checked against the RP2040 datasheet and the UF2 specification with code
written here, not with fwharden's writers: the UF2 block layout and magic numbers (UF2
spec "File format"), family id 0xE48BFF56, 256-byte payloads at 256-byte aligned flash
addresses (datasheet 2.8.4.2), the boot2 CRC32 (2.8.1.3.1: poly 0x04C11DB7, MSB first,
init 0xFFFFFFFF, no final XOR; computed bit by bit below), the vector table right after
boot2, and the whole image on ARMv6-M: every instruction objdump finds is a 16-bit Thumb
instruction or one of the few 32-bit ones ARMv6-M has (DDI 0419E A5.1: BL, MSR, MRS,
DMB, DSB, ISB).
"""

from __future__ import annotations

import re
import struct
import subprocess
from pathlib import Path

import pytest
from conftest import DATA, scons
from elfcheck import symbols

from fwharden.board_profiles import ProfileError, load_profile

FLASH = 0x10000000
FLASH_SIZE = 2 * 1024 * 1024
FAMILY_RP2040 = 0xE48BFF56


def crc32_msb_first(data: bytes) -> int:
    """The boot ROM's CRC (datasheet 2.8.1.3.1), one bit at a time."""
    crc = 0xFFFFFFFF
    for byte in data:
        for bit in range(7, -1, -1):
            top = (crc >> 31) ^ ((byte >> bit) & 1)
            crc = (crc << 1) & 0xFFFFFFFF
            if top:
                crc ^= 0x04C11DB7
    return crc


def test_crc_is_the_mpeg2_variant() -> None:
    # The catalogue check value of CRC-32/MPEG-2 (poly 04C11DB7, init FFFFFFFF, no
    # reflection, no final XOR) for "123456789".
    assert crc32_msb_first(b"123456789") == 0x0376E6E7


def read_uf2(path: Path) -> list[tuple[int, int, int, int, int, bytes]]:
    """(flags, address, block number, block count, family, payload) per 512-byte block."""
    data = path.read_bytes()
    assert len(data) % 512 == 0 and data
    blocks = []
    for offset in range(0, len(data), 512):
        block = data[offset:offset + 512]
        magic0, magic1, flags, address, size, number, count, family = struct.unpack_from(
            "<8I", block)
        assert (magic0, magic1) == (0x0A324655, 0x9E5D5157)
        assert struct.unpack_from("<I", block, 508)[0] == 0x0AB16F30
        assert size == 256, "the RP2040 boot ROM takes 256-byte payloads only"
        blocks.append((flags, address, number, count, family, block[32:32 + size]))
    return blocks


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from conftest import EXAMPLE, copy_project
    project = copy_project(EXAMPLE, tmp_path_factory.mktemp("rp2040") / "irq-demo")
    scons(project, "board=rp2040")
    return project / "build" / "rp2040"


def test_uf2_blocks_are_what_the_boot_rom_takes(built: Path) -> None:
    blocks = read_uf2(built / "firmware.uf2")
    count = len(blocks)
    addresses = [b[1] for b in blocks]
    for index, (flags, address, number, total, family, _) in enumerate(blocks):
        assert flags & 0x00002000, "familyID present flag"
        assert family == FAMILY_RP2040
        assert number == index and total == count
        assert address % 256 == 0 and FLASH <= address < FLASH + FLASH_SIZE
    assert addresses == sorted(set(addresses))
    assert addresses[0] == FLASH, "boot2 is the first flash page"
    # The blocks hold exactly the flash image objcopy wrote (firmware.bin starts at the
    # lowest loaded address, 0x10000000), zero-padded to whole pages.
    image = bytearray((addresses[-1] + 256) - FLASH)
    for _, address, _, _, _, payload in blocks:
        image[address - FLASH:address - FLASH + 256] = payload
    binary = (built / "firmware.bin").read_bytes()
    assert bytes(image[:len(binary)]) == binary
    assert not any(image[len(binary):])


def test_boot2_crc_and_vector_table(built: Path) -> None:
    boot2 = read_uf2(built / "firmware.uf2")[0][5]
    assert crc32_msb_first(boot2[:252]) == struct.unpack_from("<I", boot2, 252)[0]
    assert any(boot2[:252]), "boot2 holds code"
    elf = built / "firmware.elf"
    syms = symbols(elf)
    binary = (built / "firmware.bin").read_bytes()
    sp, reset = struct.unpack_from("<2I", binary, 0x100)
    assert syms["__fwh_vectors_start"] == FLASH + 0x100
    assert sp == syms["__fwh_isr_stack_end"] and 0x20000000 < sp <= 0x20042000
    assert reset == syms["Reset_Handler"] and reset & 1


def test_boot2_code_is_position_independent_thumb(built: Path) -> None:
    """The ROM runs boot2 from SRAM at 0x20041F00, not where it is linked: every load is
    pc-relative inside the 252 checked bytes, the code ends in a jump through the reset
    vector it read, and the constants it loads are the SSI registers (datasheet 4.10.13),
    the vector table after boot2 and VTOR."""
    listing = subprocess.run(
        ["arm-none-eabi-objdump", "-D", "-j", ".boot2", "-M", "force-thumb",
         str(built / "firmware.elf")], capture_output=True, text=True, check=True).stdout
    binary = (built / "firmware.bin").read_bytes()
    loaded = set()
    mnemonics = []
    for match in re.finditer(r"^([0-9a-f]+):\s+[0-9a-f]{4}(?: [0-9a-f]{4})?\s+(\S+)\s*(.*)$",
                             listing, re.MULTILINE):
        address, mnemonic, operands = int(match.group(1), 16), match.group(2), match.group(3)
        mnemonics.append(mnemonic)
        literal = re.match(r"r\d, \[pc, #(\d+)\]", operands)
        if mnemonic == "ldr":
            assert literal, f"non-literal load in boot2: {match.group(0)}"
            where = ((address + 4) & ~3) + int(literal.group(1)) - FLASH
            assert where + 4 <= 252
            loaded.add(struct.unpack_from("<I", binary, where)[0])
        if mnemonic == "bx":
            assert operands == "r2"
            break
    assert mnemonics[-1] == "bx" and "msr" in mnemonics and "ldmia" in mnemonics
    assert {0x18000000, 0x180000F4, 0x10000100, 0xE000ED08} <= loaded
    assert 0x03000218 in loaded      # SPI_CTRLR0: XIP_CMD 03h, 8-bit instruction, 24-bit address


ARMV6M_32BIT = {"bl", "msr", "mrs", "dmb", "dsb", "isb"}


def test_whole_image_is_armv6m(built: Path) -> None:
    listing = subprocess.run(["arm-none-eabi-objdump", "-d", "-j", ".text",
                              str(built / "firmware.elf")],
                             capture_output=True, text=True, check=True).stdout
    seen = 0
    for match in re.finditer(r"^\s*[0-9a-f]+:\s+([0-9a-f]{4})(?: ([0-9a-f]{4}))?\s+(\S+)",
                             listing, re.MULTILINE):
        seen += 1
        if match.group(2):
            assert match.group(3) in ARMV6M_32BIT, match.group(0)
    assert seen > 200


def test_pmsav6_guard_below_256_is_refused(tmp_path: Path) -> None:
    text = (DATA.parent.parent / "fwharden" / "board_profiles" / "rp2040.toml").read_text()
    bad = tmp_path / "rp2040-small-guard.toml"
    bad.write_text(text.replace("guard_size = 256", "guard_size = 128"))
    with pytest.raises(ProfileError, match=r"stacks.guard_size.*256-byte MPU minimum"):
        load_profile(str(bad))
    moved = tmp_path / "rp2040-vectors-at-0.toml"
    moved.write_text(text.replace("boot_address = 0x10000100", "boot_address = 0x10000200"))
    with pytest.raises(ProfileError, match=r"placement.boot_address.*right after the 256-byte boot2"):
        load_profile(str(moved))
