"""fwharden.flash without probes or cross compilers: the exact command lines for pyOCD,
esptool, OpenOCD and picotool, the UF2 file and its copy to a directory made to look like
a mounted RPI-RP2 drive, the verify gate, the profile tables, launch.json."""

from __future__ import annotations

import hashlib
import json
import struct
from pathlib import Path

import pytest

from fwharden.board_profiles import ProfileError, load_profile
from fwharden.board_profiles.probe import EspToolConfig, OpenOcdConfig, PyOcdConfig
from fwharden.flash import FlashError, commands
from fwharden.flash.gate import check_verified
from fwharden.flash.gdbinit import merge_launch_json
from fwharden.flash.run import flash_firmware, tool_message

ELF = Path("/work/p/build/b/firmware.elf")
RP2040_PROFILE = Path(__file__).resolve().parent.parent / "data" / "boards" / "rp2040-test.toml"

# The UF2 specification's constants, written out here rather than imported.
UF2_MAGIC0, UF2_MAGIC1, UF2_END = 0x0A324655, 0x9E5D5157, 0x0AB16F30
RP2040_FAMILY = 0xE48BFF56
# The RP2040 boot ROM's INFO_UF2.TXT (RP2040 datasheet 2.8.4.1).
INFO_UF2 = "UF2 Bootloader v3.0\r\nModel: Raspberry Pi RP2\r\nBoard-ID: RPI-RP2\r\n"


def test_pyocd_command_line() -> None:
    config = PyOcdConfig(target="stm32h743xx")
    assert commands.pyocd_flash_command(["pyocd"], config, ELF) == [
        "pyocd", "load", "-W", "--target", "stm32h743xx", "--format", "elf", str(ELF)]
    fast = PyOcdConfig(target="mimxrt1064", frequency="10m")
    assert commands.pyocd_flash_command(["pyocd"], fast, ELF, probe="0227000041") == [
        "pyocd", "load", "-W", "--target", "mimxrt1064", "--frequency", "10m", "--uid",
        "0227000041", "--format", "elf", str(ELF)]
    assert commands.pyocd_server_command(["pyocd"], config, 3334) == [
        "pyocd", "gdbserver", "-W", "--target", "stm32h743xx", "--port", "3334"]


def test_esptool_command_lines() -> None:
    steps = commands.esptool_commands(["esptool"], EspToolConfig(chip="esp32c3"), ELF,
                                      port="/dev/ttyACM0")
    image = ELF.with_name("firmware-esp32c3.bin")
    assert steps.image == image
    assert steps.elf2image == ["esptool", "--chip", "esp32c3", "elf2image", "--output",
                               str(image), str(ELF)]
    assert steps.write_flash == ["esptool", "--chip", "esp32c3", "--port", "/dev/ttyACM0",
                                 "--baud", "460800", "--after", "hard-reset", "write-flash",
                                 "0x0", str(image)]
    other = commands.esptool_commands(["esptool"], EspToolConfig("esp32c3", 0x10000, 921600), ELF)
    assert "--port" not in other.write_flash      # esptool then tries every serial port
    assert other.write_flash[-2:] == ["0x10000", str(image)]
    assert other.write_flash[other.write_flash.index("--baud") + 1] == "921600"


def test_openocd_command_lines_from_the_profile() -> None:
    profile = load_profile("stm32h743")
    assert profile.flash is not None and profile.flash.openocd is not None
    command = commands.openocd_flash_command("openocd", profile.flash.openocd, ELF)
    assert command == [
        "openocd", "-c", "gdb_port disabled", "-c", "tcl_port disabled", "-c",
        "telnet_port disabled", "-f", "interface/stlink.cfg", "-c", "transport select hla_swd",
        "-f", "target/stm32h7x_dual_bank.cfg", "-c", "reset_config srst_only",
        "-c", f"program {{{ELF}}} verify reset exit"]
    assert commands.openocd_server_command("openocd", OpenOcdConfig(("board/x.cfg",)), 3333) == [
        "openocd", "-c", "gdb_port 3333", "-c", "tcl_port disabled", "-c",
        "telnet_port disabled", "-f", "board/x.cfg"]
    with pytest.raises(FlashError, match="brace"):
        commands.openocd_flash_command("openocd", profile.flash.openocd, Path("/tmp/a}b.elf"))


def test_picotool_and_qemu_command_lines() -> None:
    assert commands.picotool_command("picotool", ELF) == ["picotool", "load", "-v", "-x", str(ELF)]
    assert commands.qemu_gdb_command(["qemu-system-arm", "-M", "mps2-an386"], 1234) == [
        "qemu-system-arm", "-M", "mps2-an386", "-S", "-gdb", "tcp:127.0.0.1:1234"]


def test_tool_message_is_the_first_error_line() -> None:
    openocd = ("Open On-Chip Debugger 0.12.0\nInfo : clock speed 1800 kHz\n"
               "Error: open failed\n** OpenOCD init failed **\nshutdown command invoked\n")
    assert tool_message(openocd) == "Error: open failed"
    ftdi = ("Error: no device found\nError: unable to open ftdi device with vid 0403, pid 6010, "
            "description '*'\n")
    assert tool_message(ftdi) == ("Error: no device found; Error: unable to open ftdi device with "
                                  "vid 0403, pid 6010, description '*'")
    pyocd = "No connected debug probes\n0001782 E No target device available [load_cmd]\n"
    assert tool_message(pyocd) == "No connected debug probes; No target device available [load_cmd]"


def _elf32(segments: list[tuple[int, bytes]]) -> bytes:
    """A minimal little-endian ELF32 (ARM) with one PT_LOAD per segment (ELF spec,
    "ELF Header" and "Program Header"): enough for a reader of loadable bytes."""
    header_size, ph_size = 52, 32
    offset = header_size + ph_size * len(segments)
    headers, body = b"", b""
    for address, data in segments:
        headers += struct.pack("<8I", 1, offset + len(body), address, address, len(data),
                               len(data), 5, 4)
        body += data
    ident = b"\x7fELF" + bytes([1, 1, 1]) + bytes(9)
    elf_header = ident + struct.pack("<HHIIIIIHHHHHH", 2, 40, 1, segments[0][0] | 1, header_size,
                                     0, 0x05000000, header_size, ph_size, len(segments), 40, 0, 0)
    return elf_header + headers + body


def _verified(directory: Path, elf_bytes: bytes, verdict: str = "pass",
              board: str = "rp2040-test") -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    elf = directory / "firmware.elf"
    elf.write_bytes(elf_bytes)
    manifest = {"board": {"name": board}, "verdict": verdict,
                "artifacts": [{"path": "firmware.elf",
                               "sha256": hashlib.sha256(elf_bytes).hexdigest()}]}
    (directory / "manifest.json").write_text(json.dumps(manifest))
    return elf


def _parse_uf2(data: bytes) -> list[tuple[int, int, int, int, int, bytes]]:
    assert len(data) % 512 == 0
    blocks = []
    for start in range(0, len(data), 512):
        block = data[start:start + 512]
        m0, m1, flags, address, size, number, total, family = struct.unpack_from("<8I", block)
        assert (m0, m1) == (UF2_MAGIC0, UF2_MAGIC1)
        assert struct.unpack_from("<I", block, 508)[0] == UF2_END
        assert flags & 0x2000 and size == 256 and address % 256 == 0
        blocks.append((address, number, total, family, flags, block[32:32 + size]))
    return blocks


def test_uf2_copy_to_a_mounted_rpi_rp2_drive(tmp_path: Path) -> None:
    # Code at the start of the application flash, and .data's load image 300 bytes on, in
    # the page after (a gap of zeros between).
    code = bytes(range(256)) * 2 + b"\x01\x02\x03"
    data = b"DATA" * 10
    elf = _verified(tmp_path / "build", _elf32([(0x10000100, code), (0x10000400, data)]))
    media = tmp_path / "media"
    (media / "USBSTICK").mkdir(parents=True)
    (media / "USBSTICK" / "INFO_UF2.TXT").write_text("UF2 Bootloader\nBoard-ID: OTHER\n")
    drive = media / "RPI-RP2"
    drive.mkdir()
    (drive / "INFO_UF2.TXT").write_text(INFO_UF2)
    profile = load_profile(str(RP2040_PROFILE))
    result = flash_firmware(profile, elf, uf2_roots=sorted(media.iterdir()))
    assert result.tool == "uf2" and result.written_to == str(drive)
    assert not (media / "USBSTICK" / "firmware.uf2").exists()
    blocks = _parse_uf2((drive / "firmware.uf2").read_bytes())
    assert [b[1] for b in blocks] == list(range(len(blocks)))
    assert {b[2] for b in blocks} == {len(blocks)} and {b[3] for b in blocks} == {RP2040_FAMILY}
    memory: dict[int, int] = {}
    for address, *_rest, payload in blocks:
        for i, byte in enumerate(payload):
            memory[address + i] = byte
    assert bytes(memory[0x10000100 + i] for i in range(len(code))) == code
    assert bytes(memory[0x10000400 + i] for i in range(len(data))) == data
    # Pages 0x10000100, 0x10000200, 0x10000300 (code) and 0x10000400 (data).
    assert [b[0] for b in blocks] == [0x10000100, 0x10000200, 0x10000300, 0x10000400]


def test_uf2_without_a_drive_or_picotool(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    elf = _verified(tmp_path / "build", _elf32([(0x10000100, b"\0" * 16)]))
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    profile = load_profile(str(RP2040_PROFILE))
    with pytest.raises(FlashError) as info:
        flash_firmware(profile, elf, uf2_roots=[tmp_path])
    assert info.value.status == 1
    message = str(info.value)
    assert "no RPI-RP2 drive found" in message and "BOOTSEL USB drive" in message
    assert "\n" not in message


def test_verify_gate(tmp_path: Path) -> None:
    image = _elf32([(0x10000100, b"\x00" * 8)])
    good = _verified(tmp_path / "good", image)
    assert "verify passed" in check_verified(good, "rp2040-test")
    failed = _verified(tmp_path / "failed", image, verdict="fail")
    with pytest.raises(FlashError, match="failed verify is never flashed"):
        check_verified(failed)
    changed = _verified(tmp_path / "changed", image)
    changed.write_bytes(image + b"\0")
    with pytest.raises(FlashError, match="sha256 differs"):
        check_verified(changed)
    with pytest.raises(FlashError, match="built for board rp2040-test, not stm32h743"):
        check_verified(good, "stm32h743")
    bare = tmp_path / "bare" / "firmware.elf"
    bare.parent.mkdir()
    bare.write_bytes(image)
    with pytest.raises(FlashError, match="no manifest.json or verify.json"):
        check_verified(bare)
    # A refused firmware never reaches the tool: the gate runs before any program lookup.
    profile = load_profile(str(RP2040_PROFILE))
    with pytest.raises(FlashError, match="never flashed"):
        flash_firmware(profile, failed, tool="openocd")


def test_qemu_board_has_nothing_to_flash(tmp_path: Path) -> None:
    elf = _verified(tmp_path / "b", _elf32([(0, b"\0" * 8)]), board="mps2-an386")
    with pytest.raises(FlashError, match="emulated by QEMU"):
        flash_firmware(load_profile("mps2-an386"), elf)
    with pytest.raises(FlashError, match="no \\[flash.pyocd\\] table"):
        flash_firmware(load_profile("fe310"), elf, tool="pyocd")


@pytest.mark.parametrize(("table", "message"), [
    ('[flash]\nprobe = "x"\n[flash.pyocd]\ntarget = "t"\n', "flash.tool: missing"),
    ('[flash]\ntool = "jtag"\nprobe = "x"\n', "flash.tool: 'jtag' is not supported"),
    ('[flash]\ntool = "openocd"\nprobe = "x"\n', "'openocd' has no [flash.openocd] table"),
    ('[flash]\ntool = "pyocd"\n[flash.pyocd]\ntarget = "t"\n', "flash.probe: missing"),
    ('[flash]\ntool = "openocd"\nprobe = "x"\n[flash.openocd]\nconfig = []\n',
     "flash.openocd.config: is empty"),
    ('[flash]\ntool = "openocd"\nprobe = "x"\n[flash.openocd]\nconfig = ["a.cfg"]\nspeed = 1\n',
     "flash.openocd.speed: unknown key"),
    ('[debug]\nserver = "pyocd"\n', "debug.server: 'pyocd' has no [flash.pyocd] table"),
    ('[debug]\nserver = "qemu"\n', "'qemu' needs a [qemu] table"),
])
def test_bad_flash_tables(tmp_path: Path, table: str, message: str) -> None:
    path = tmp_path / "bad.toml"
    # The stm32h7 family (no [flash] of its own) plus a minimal memory map.
    path.write_text('schema_version = 1\ninherits = "stm32h7"\n[board]\nname = "bad"\n'
                    + table + _STM32H7_REST)
    with pytest.raises(ProfileError) as info:
        load_profile(str(path))
    assert message in str(info.value) and str(path) in str(info.value)
    assert "\n" not in str(info.value)


_STM32H7_REST = """
[memory.flash]
origin = 0x08000000
length = "2M"
attributes = "rx"
[memory.dtcm]
origin = 0x20000000
length = "128K"
attributes = "rwx"
[interrupts]
irq_count = 150
[placement]
boot = "flash"
data = "dtcm"
[stacks]
region = "dtcm"
isr_size = "4K"
thread_size = "8K"
"""


def test_launch_json_merges_and_leaves_the_users_own_alone() -> None:
    first = merge_launch_json(None, {"name": "fwharden: a (qemu)", "type": "cortex-debug"})
    assert first is not None and first.startswith("// AUTO-GENERATED by fwharden")
    second = merge_launch_json(first, {"name": "fwharden: b (openocd)", "x": 1})
    third = merge_launch_json(second, {"name": "fwharden: a (qemu)", "x": 2})
    assert third is not None
    configs = json.loads(third.split("\n", 1)[1])["configurations"]
    assert [(c["name"], c.get("x")) for c in configs] == [("fwharden: a (qemu)", 2),
                                                           ("fwharden: b (openocd)", 1)]
    assert merge_launch_json('{"version": "0.2.0", "configurations": []}', {"name": "n"}) is None
