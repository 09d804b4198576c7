"""Flash and debug with the real tools: gdb-multiarch batch sessions against QEMU (Arm and
RISC-V), each catalog board's OpenOCD configuration run by the real openocd up to the
point where it needs the probe, and `scons flash` without a probe for every board."""

from __future__ import annotations

import re
import socket
import subprocess
from pathlib import Path

import pytest
from conftest import ALL_BOARDS, EXAMPLE, FIRMWARE, built_copy, copy_project, fwharden, scons

from fwharden.board_profiles import load_profile
from fwharden.flash.commands import NO_SERVERS, openocd_check_command, openocd_config_args

OPENOCD_SCRIPTS = Path("/usr/share/openocd/scripts")
# What OpenOCD 0.12 itself says when the adapter a configuration names is not plugged in
# (measured with each adapter driver and nothing attached).
ADAPTER_MISSING = {
    "stlink": "Error: open failed",
    "jlink": "Error: No J-Link device found",
    "ftdi": "Error: unable to open ftdi device with vid 0403, pid 6010",
    "cmsis-dap": "Error: unable to find a matching CMSIS-DAP device",
}
QEMU_DEBUG = [("mps2-an386", "UART0RX_IRQHandler"), ("sifive-e", "MachineSoftware_Handler")]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def gdb_session(elf: Path, *commands: str) -> str:
    """`fwharden debug` with GDB in batch mode: QEMU -S with its GDB stub, the generated
    gdbinit (to main), then `commands`."""
    args = [x for command in commands for x in ("-ex", command)]
    result = fwharden("debug", str(elf), "--port", str(free_port()), "--", "-batch", *args)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    print(output)
    return output


def stacks_table(output: str) -> dict[str, tuple[int, int]]:
    """fwh-stacks rows: stack -> (high-water, static worst case)."""
    rows = re.findall(r"^(isr|thread)\s+(\d+) B\s+(\d+) B \(exact\)", output, re.MULTILINE)
    return {name: (int(used), int(static)) for name, used, static in rows}


@pytest.mark.parametrize(("board", "handler"), QEMU_DEBUG)
def test_gdb_session_against_qemu(board: str, handler: str, tmp_path: Path) -> None:
    import json
    elf = built_copy(EXAMPLE, tmp_path / "demo", board)
    # The example's low-priority handler increments demo_low_count once per interrupt.
    output = gdb_session(elf, f"break {handler}", "continue", "print demo_low_count",
                         "continue", "print demo_low_count", "delete", "break fwh_exit",
                         "continue", "fwh-stacks", "fwh-map", "fwh-fault")
    assert "Breakpoint 1, main () at src/main.c" in output
    assert re.search(rf"Breakpoint 2, {handler} \(", output)
    # First stop: before the first increment; second: after it.
    assert re.findall(r"^\$\d+ = (\d+)$", output, re.MULTILINE) == ["0", "1"]
    table = stacks_table(output)
    verify = json.loads((elf.parent / "verify.json").read_text())
    assert table["isr"][1] == verify["isr_stack"]["worst_case"]
    assert table["thread"][1] == verify["thread_stack"]["worst_case"]
    # The firmware measures its own high-water marks with the runtime's C code and prints
    # them before it exits: GDB's reading of the same paint at fwh_exit agrees for the
    # interrupt stack (no interrupt runs after it) and sees at least as much thread use.
    isr, thread = map(int, re.search(r"high-water isr=(\d+) thread=(\d+)", output).groups())
    assert table["isr"][0] == isr > 0
    assert table["thread"][0] >= thread > 0
    for used, static in table.values():
        assert used <= static
    assert "no fault recorded" in output
    assert re.search(r"^isr\s+0x[0-9a-f]{8}\s+\d+ 0x[0-9a-f]{8}\s+\d+", output, re.MULTILINE)


@pytest.mark.parametrize(("board", "handler"), QEMU_DEBUG)
def test_fwh_fault_after_the_overflow(board: str, handler: str, tmp_path: Path) -> None:
    elf = built_copy(FIRMWARE / "overflow", tmp_path / "overflow", board)
    output = gdb_session(elf, f"break {handler}", "break fwh_exit", "continue",
                         "print/x $sp", "continue", "fwh-fault", "fwh-stacks")
    assert re.search(rf"Breakpoint 2, {handler} \(", output)
    assert "Breakpoint 3, fwh_exit (status=status@entry=70)" in output
    # The runtime printed its FWH-FAULT line on the console (semihosting) before fwh_exit:
    # `fwharden decode-fault` of that line is the reference for what fwh-fault decodes
    # from the .noinit record in the halted target's memory.
    log = tmp_path / "console.log"
    log.write_text(output)
    reference = fwharden("decode-fault", "--elf", str(elf), str(log))
    assert reference.returncode == 0, reference.stderr
    summary, *rest = reference.stdout.splitlines()
    assert "overflow of the interrupt stack" in summary
    record_part = output.split("fwh_last_fault: magic=0x46574846", 1)[1]
    assert summary in record_part
    for line in rest:
        if line.startswith(("stack:", "handler:", "pc:")):
            assert line in record_part
    assert "pc: " in record_part and "overflow_body (src/main.c:" in record_part
    assert re.search(r"^isr\s+1024 B .* FULL: no painted word left", output, re.MULTILINE)
    assert "src/main.c: No such file" not in output   # the gdbinit names the project root


# The RP2040 test profile brings the CMSIS-DAP probe (target/rp2040.cfg).
RP2040 = str(Path(__file__).resolve().parent.parent / "data" / "boards" / "rp2040-test.toml")


def _openocd_boards() -> list[str]:
    return [b for b in (*ALL_BOARDS, RP2040) if (p := load_profile(b).flash) and p.openocd]


def _adapter(config: list[str]) -> str:
    text = " ".join(config)
    for name in ADAPTER_MISSING:
        if f"interface/{name}.cfg" in text or f"adapter driver {name}" in text:
            return name
    for item in config:   # a board script names its adapter inside
        if item.endswith(".cfg"):
            body = (OPENOCD_SCRIPTS / item).read_text()
            for name in ADAPTER_MISSING:
                if f"adapter driver {name}" in body or f"interface/{name}.cfg" in body:
                    return name
    raise AssertionError(f"no known adapter in {config}")


def test_every_board_has_a_flash_route() -> None:
    for board in ALL_BOARDS:
        profile = load_profile(board)
        assert profile.flash is not None or profile.qemu is not None, board
        assert profile.debug is not None, board


@pytest.mark.parametrize("board", _openocd_boards())
def test_openocd_configuration_up_to_the_probe(board: str) -> None:
    flash = load_profile(board).flash
    assert flash is not None and flash.openocd is not None
    for item in flash.openocd.config:
        if item.endswith(".cfg"):
            assert (OPENOCD_SCRIPTS / item).is_file(), f"{board}: {item} not in OpenOCD"
    config = list(flash.openocd.config)
    adapter = _adapter(config)
    calls_init = any(item.endswith(".cfg") and re.search(
        r"^init\b", (OPENOCD_SCRIPTS / item).read_text(), re.MULTILINE) for item in config)
    parsed = subprocess.run(openocd_check_command("openocd", flash.openocd), capture_output=True,
                            text=True, timeout=60, check=False)
    if calls_init:
        # The board script opens the probe itself: that is where it must stop.
        assert parsed.returncode != 0 and ADAPTER_MISSING[adapter] in parsed.stderr
    else:
        assert parsed.returncode == 0, parsed.stderr
        assert "Error" not in parsed.stderr and "shutdown command invoked" in parsed.stderr
    # With init the adapter is opened: OpenOCD's first error is the missing probe.
    opened = subprocess.run(["openocd", *NO_SERVERS, *openocd_config_args(flash.openocd),
                             "-c", "init", "-c", "shutdown"], capture_output=True, text=True, timeout=60,
                            check=False)
    errors = [line for line in opened.stderr.splitlines() if line.startswith("Error")]
    print(board, adapter, errors)
    assert opened.returncode != 0 and any(e.startswith(ADAPTER_MISSING[adapter]) for e in errors)


@pytest.mark.parametrize("board", ALL_BOARDS)
def test_scons_flash_without_a_probe_is_one_line(board: str, tmp_path: Path) -> None:
    project = tmp_path / "demo"
    built_copy(EXAMPLE, project, board)
    result = scons(project, f"board={board}", "flash", check=False)
    lines = result.stderr.strip().splitlines()
    print(board, lines)
    assert result.returncode != 0
    assert len(lines) == 1 and lines[0].startswith("fwharden: error: ")
    profile = load_profile(board)
    if profile.flash is None:
        assert "emulated by QEMU" in lines[0]
        return
    assert profile.flash.probe in lines[0]
    tool = profile.flash.tool
    if tool == "uf2":   # rp2040: no BOOTSEL drive mounted here
        assert f"no {profile.flash.uf2.volume} drive found" in lines[0]
        return
    assert f"{tool} could not flash {board} through" in lines[0]
    if tool == "openocd":
        adapter = _adapter(list(profile.flash.openocd.config))
        assert ADAPTER_MISSING[adapter] in lines[0]
    else:
        assert "No connected debug probes" in lines[0]


def test_flash_refuses_a_firmware_that_failed_verify(tmp_path: Path) -> None:
    # The overflow firmware builds (fail_on = "never") but verify's verdict is fail: its
    # handler, wired to the H743's IRQ 0 here, needs more than the 1 KiB interrupt stack.
    project = copy_project(FIRMWARE / "overflow", tmp_path / "overflow")
    (project / "src" / "h743.c").write_text(
        "void UART0RX_IRQHandler(void);\nvoid WWDG_IRQHandler(void) { UART0RX_IRQHandler(); }\n")
    scons(project, "board=stm32h743")
    elf = project / "build" / "stm32h743" / "firmware.elf"
    assert '"verdict": "fail"' in (elf.parent / "verify.json").read_text()
    result = fwharden("flash", str(elf), "--board", "stm32h743")
    assert result.returncode == 2
    assert "failed verify is never flashed" in result.stderr
    assert "openocd" not in result.stderr     # refused before any tool ran
    assert len(result.stderr.strip().splitlines()) == 1


def test_gdbinit_and_launch_json(tmp_path: Path) -> None:
    import json
    elf = built_copy(EXAMPLE, tmp_path / "demo", "stm32h743")
    result = fwharden("gdbinit", str(elf), "--board", "stm32h743")
    assert result.returncode == 0, result.stderr
    gdbinit = (elf.parent / "fwharden.gdbinit").read_text()
    assert gdbinit.startswith("# AUTO-GENERATED by fwharden, do not edit")
    assert "target extended-remote 127.0.0.1:3333" in gdbinit and "\nload\n" in gdbinit
    assert "break main" in gdbinit
    launch = tmp_path / "demo" / "launch.json"
    assert (tmp_path / "demo" / "compile_commands.json").is_file()
    config = json.loads(launch.read_text().split("\n", 1)[1])["configurations"][0]
    # Attribute names as Cortex-Debug's debug_attributes.md documents them.
    assert config["type"] == "cortex-debug" and config["servertype"] == "openocd"
    assert config["runToEntryPoint"] == "main" and config["toolchainPrefix"] == "arm-none-eabi"
    assert config["postLaunchCommands"] == [
        "source ${workspaceFolder}/build/stm32h743/fwharden-commands.gdb"]
    assert config["executable"] == "${workspaceFolder}/build/stm32h743/firmware.elf"
    assert config["configFiles"] == ["${workspaceFolder}/build/stm32h743/openocd.cfg"]
    # The generated script is the profile's sequence, and OpenOCD parses it.
    parsed = subprocess.run(["openocd", "-f", str(elf.parent / "openocd.cfg"), "-c", "shutdown"],
                            capture_output=True, text=True, timeout=60, check=False)
    assert parsed.returncode == 0, parsed.stderr


def test_scons_debug_runs_gdb_with_the_gdbinit(tmp_path: Path) -> None:
    """`scons board=mps2-an500 debug`: QEMU's GDB stub and gdb-multiarch, which reads its
    commands from standard input when that is not a terminal."""
    import sys
    project = tmp_path / "demo"
    built_copy(EXAMPLE, project, "mps2-an500")
    commands = "break UART0TX_IRQHandler\ncontinue\nprint demo_high_count\nfwh-stacks\nquit\n"
    result = subprocess.run([sys.executable, "-m", "SCons", "-Q", "board=mps2-an500", "debug",
                             f"gdb_port={free_port()}"], cwd=project, input=commands,
                            capture_output=True, text=True, timeout=300, check=False)
    output = result.stdout + result.stderr
    print(output)
    assert result.returncode == 0, output
    assert "Breakpoint 1, main () at src/main.c" in output
    assert re.search(r"Breakpoint 2, UART0TX_IRQHandler \(", output)
    assert re.search(r"\$1 = 0$", output, re.MULTILINE)   # GDB prints its prompt before it
    assert set(stacks_table(output)) == {"isr", "thread"}
    assert (project / "launch.json").is_file()


@pytest.mark.parametrize("board", ["stm32h743", "imxrt1064"])
def test_debug_without_a_probe_is_one_line(board: str, tmp_path: Path) -> None:
    elf = built_copy(EXAMPLE, tmp_path / "demo", board)
    result = fwharden("debug", str(elf), "--port", str(free_port()), "--", "-batch")
    lines = result.stderr.strip().splitlines()
    print(lines)
    profile = load_profile(board)
    assert profile.flash is not None and profile.debug is not None
    assert result.returncode == 1 and len(lines) == 1
    assert f"{profile.debug.server} did not start a GDB server for {board}" in lines[0]
    assert profile.flash.probe in lines[0]
    expected = "Error: open failed" if board == "stm32h743" else "No connected debug probes"
    assert expected in lines[0]
