"""UF2: the file a USB mass-storage bootloader (the RP2040's BOOTSEL mode) flashes.

Format (Microsoft's UF2 specification, "File format"): 512-byte blocks, each
  0  magic 0x0A324655 ("UF2\\n")   4  magic 0x9E5D5157   8  flags (0x2000: family ID set)
  12 target address   16 payload size   20 block number   24 number of blocks
  28 family ID        32 data (476 bytes, of which `payload size` are used)
  508 final magic 0x0AB16F30
The RP2040 boot ROM takes 256-byte payloads at 256-byte aligned addresses (RP2040
datasheet 2.8.4.2), so every 256-byte page the ELF's loadable bytes touch is one block.

The drive is found by its INFO_UF2.TXT, whose `Board-ID:` line names the bootloader
(`RPI-RP2` for the RP2040 boot ROM, datasheet 2.8.4.1).
"""

from __future__ import annotations

import os
import struct
from collections.abc import Iterable
from pathlib import Path

from elftools.common.exceptions import ELFError
from elftools.elf.elffile import ELFFile

from .errors import FlashError

MAGIC_START0 = 0x0A324655
MAGIC_START1 = 0x9E5D5157
MAGIC_END = 0x0AB16F30
FLAG_FAMILY_ID = 0x00002000
PAGE = 256
BLOCK = struct.Struct("<8I476sI")


def loadable_bytes(elf: Path) -> dict[int, bytes]:
    """Physical address -> bytes of every PT_LOAD segment with file contents (what a
    flash programmer writes: initialised data at its load address, not its RAM copy)."""
    try:
        with elf.open("rb") as stream:
            reader = ELFFile(stream)
            return {seg["p_paddr"]: seg.data() for seg in reader.iter_segments()
                    if seg["p_type"] == "PT_LOAD" and seg["p_filesz"] > 0}
    except (OSError, ELFError) as exc:
        raise FlashError(f"{elf}: cannot read it as an ELF ({exc})") from None


def pages(chunks: dict[int, bytes]) -> dict[int, bytearray]:
    """The 256-byte pages the chunks touch; bytes no chunk gives stay 0."""
    out: dict[int, bytearray] = {}
    for address, data in chunks.items():
        for offset, byte in enumerate(data):
            where = address + offset
            page = out.setdefault(where - where % PAGE, bytearray(PAGE))
            page[where % PAGE] = byte
    return out


def to_uf2(chunks: dict[int, bytes], family: int) -> bytes:
    """The UF2 file for `chunks` (address -> bytes), one block per 256-byte page."""
    touched = pages(chunks)
    total = len(touched)
    blocks = []
    for number, address in enumerate(sorted(touched)):
        blocks.append(BLOCK.pack(MAGIC_START0, MAGIC_START1, FLAG_FAMILY_ID, address, PAGE,
                                 number, total, family, bytes(touched[address]), MAGIC_END))
    return b"".join(blocks)


def default_roots() -> list[Path]:
    """Where desktops and udisks mount removable drives, and every mount point listed in
    /proc/mounts (a drive mounted by hand)."""
    roots: list[Path] = []
    user = os.environ.get("USER") or os.environ.get("LOGNAME") or ""
    for base in (Path("/media") / user, Path("/run/media") / user, Path("/media"), Path("/mnt")):
        if base.is_dir():
            roots += [p for p in sorted(base.iterdir()) if p.is_dir()]
    try:
        for line in Path("/proc/mounts").read_text().splitlines():
            fields = line.split()
            if len(fields) > 2 and fields[2] in ("vfat", "msdos", "fuseblk", "exfat"):
                roots.append(Path(fields[1].replace("\\040", " ")))
    except OSError:
        pass
    return roots


def find_drive(volume: str, roots: Iterable[Path]) -> Path | None:
    """The first mounted drive whose INFO_UF2.TXT says `Board-ID: <volume>`."""
    for root in roots:
        info = root / "INFO_UF2.TXT"
        try:
            text = info.read_text(errors="replace")
        except OSError:
            continue
        for line in text.splitlines():
            key, _, value = line.partition(":")
            if key.strip().lower() == "board-id" and value.strip() == volume:
                return root
    return None


def copy_to_drive(uf2: bytes, drive: Path, name: str) -> Path:
    """Write the UF2 file onto the drive and flush it: the bootloader acts on the blocks
    as they arrive and reboots after the last one, so no temporary name is used."""
    target = drive / name
    try:
        with target.open("wb") as stream:
            stream.write(uf2)
            stream.flush()
            os.fsync(stream.fileno())
    except OSError as exc:
        raise FlashError(f"{target}: cannot write the UF2 file ({exc.strerror})",
                         status=1) from None
    return target
