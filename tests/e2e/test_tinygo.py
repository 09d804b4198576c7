"""TinyGo: generated target JSON and linker script (golden), the command line, the missing
tool, and the Go rules on clang-built firmware that carries TinyGo's symbol names."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import EXAMPLE, GOLDEN, REPO, built_copy, copy_project, fwharden, path_without, scons
from elfcheck import symbols

from fwharden.board_profiles import load_profile
from fwharden.linker import build_layout, render_linker_script
from fwharden.toolchain.tinygo import TINYGO_BOARDS, target_json, tinygo_command

TINYGO_SYMBOLS = ("_stack_top", "_sidata", "_sdata", "_edata", "_sbss", "_ebss", "_heap_start",
                  "_heap_end", "_globals_start", "_globals_end")
# Every linker symbol TinyGo 0.33's runtime, machine and start-up code for these chips reads
# (`//go:extern` in src/runtime/baremetal.go, src/machine/flash.go; device/riscv/start.S).
TINYGO_EXTERNS = (*TINYGO_SYMBOLS, "__flash_data_start", "__flash_data_end")


@pytest.mark.parametrize("board", ["stm32f407", "fe310", "rp2040", "microbit"])
def test_target_json_and_linker_script_match_golden(board: str, regen_golden: bool) -> None:
    profile = load_profile(board)
    script = render_linker_script(build_layout(profile), tinygo=True,
                                  vector_entries=TINYGO_BOARDS[board].vector_entries)
    target = target_json(profile, f"{board}-tinygo.ld", ["fwh_stackmap.c"], "firmware.map")
    for name, text in ((f"{board}-tinygo.ld", script), (f"fwharden-{board}.json", target)):
        golden = GOLDEN / "tinygo" / name
        if regen_golden:
            golden.write_text(text)
        assert text == golden.read_text(), f"{name} differs from {golden}"
    data = json.loads(target)
    # TinyGo 0.33's own board targets (targets/stm32f4disco.json, targets/hifive1b.json).
    if board == "stm32f407":
        assert data["inherits"] == ["cortex-m4"]
        assert data["build-tags"] == ["fwharden", "stm32f4disco", "stm32f407", "stm32f4", "stm32"]
        assert data["extra-files"] == ["src/device/stm32/stm32f407.s", "fwh_stackmap.c"]
        assert "<= 424," in script  # TinyGo's table: 16 + 90 slots of 4 bytes
    elif board == "rp2040":
        # TinyGo's targets/pico.json + rp2040.json: board, chip and family tags, its vector
        # table and boot2, the boot2 CRC patch; fwharden's script places .boot2 first.
        assert data["inherits"] == ["cortex-m0plus"]
        assert data["build-tags"] == ["fwharden", "pico", "rp2040", "rp"]
        assert data["extra-files"] == ["src/device/rp/rp2040.s", "targets/pico-boot-stage2.S",
                                       "fwh_stackmap.c"]
        assert data["rp2040-boot-patch"] is True
        assert ".boot2 ORIGIN(FLASH) :" in script and "<= 168," in script  # 42 slots
    elif board == "microbit":
        assert data["inherits"] == ["cortex-m0"]
        assert data["build-tags"] == ["fwharden", "microbit", "nrf51822", "nrf51", "nrf"]
        assert data["extra-files"] == ["lib/nrfx/mdk/system_nrf51.c", "src/device/nrf/nrf51.s",
                                       "fwh_stackmap.c"]
        assert data["cflags"] == ["-DNRF51", "-I{root}/lib/CMSIS/CMSIS/Include",
                                  "-I{root}/lib/nrfx/mdk"]
    else:
        assert data["inherits"] == ["fe310"]
        assert data["build-tags"] == ["fwharden", "hifive1b"]
    assert data["serial"] == "uart"
    assert data["ldflags"] == ["-Map=firmware.map"]
    assert data["linkerscript"] == f"{board}-tinygo.ld"
    assert ".tinygo_stacksizes :" in script and "*(.ramfuncs*)" in script
    for symbol in TINYGO_SYMBOLS:
        assert f"{symbol} = __fwh_" in script or symbol == "_heap_end", symbol
    assert "_heap_end = ORIGIN(" in script
    assert "_stack_top = __fwh_isr_stack_end;" in script


def test_tinygo_mode_script_links_with_the_real_linker(tmp_path: Path) -> None:
    # No TinyGo here: link the C example with the TinyGo-mode script to prove it is a
    # valid script that defines what TinyGo's runtime reads.
    from elfcheck import symbols

    elf = built_copy(EXAMPLE, tmp_path / "demo", "mps2-an386")
    script = render_linker_script(build_layout(load_profile("mps2-an386")), tinygo=True)
    (tmp_path / "tinygo.ld").write_text(script)
    objects = sorted(str(p) for p in (elf.parent / "obj").rglob("*.o"))
    out = tmp_path / "tinygo-mode.elf"
    import subprocess

    subprocess.run(["arm-none-eabi-gcc", "-mcpu=cortex-m4", "-mthumb", "-mfloat-abi=hard",
                    "-mfpu=fpv4-sp-d16", "-nostdlib", "-nostartfiles", "-Wl,--gc-sections",
                    "-T", str(tmp_path / "tinygo.ld"), *objects, "-lgcc", "-o", str(out)],
                   check=True)
    syms = symbols(out)
    assert syms["_stack_top"] == syms["__fwh_isr_stack_end"]
    # TinyGo's heap (goroutine stacks too) runs to the end of its MEMORY entry.
    layout = build_layout(load_profile("mps2-an386"))
    heap = next(u for u in layout.regions
                if u.name == layout.memory_name(layout.profile.placement.heap))
    assert syms["_heap_start"] == syms["__fwh_heap_start"]
    assert syms["_heap_end"] == heap.origin + heap.length > syms["__fwh_heap_end"]
    assert syms["_globals_start"] <= syms["_globals_end"]
    for symbol in TINYGO_EXTERNS:
        assert symbol in syms, symbol


def test_command_line() -> None:
    assert tinygo_command("/opt/tinygo/bin/tinygo", "t.json", "out.elf", "./cmd/app",
                          opt="s", size=True, print_stacks=True) == [
        "/opt/tinygo/bin/tinygo", "build", "-target=t.json", "-opt=s", "-o", "out.elf",
        "-size=short", "-print-stacks", "./cmd/app"]


def test_cli_writes_the_target_files(tmp_path: Path) -> None:
    result = fwharden("tinygo-target", "--board", "fe310", "-o", str(tmp_path), "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["command"][:2] == ["tinygo", "build"]
    extra = json.loads((tmp_path / "fwharden-fe310.json").read_text())["extra-files"]
    if shutil.which("tinygo") is None:
        assert extra == ["fwh_stackmap.c"]
    else:  # TinyGo joins extra-files onto its TINYGOROOT: the path is relative to that
        root = subprocess.run(["tinygo", "env", "TINYGOROOT"], capture_output=True, text=True,
                              check=True).stdout.strip()
        assert (Path(root) / extra[0]).resolve() == (tmp_path / "fwh_stackmap.c").resolve()
    assert ".fwh_stackmap" in (tmp_path / "fwh_stackmap.c").read_text()


def test_esp32c3_keeps_tinygos_own_layout_and_says_how(tmp_path: Path) -> None:
    result = fwharden("tinygo-target", "--board", "esp32c3", "-o", str(tmp_path / "out"))
    assert result.returncode == 2 and not (tmp_path / "out").exists()
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and "boots from flash 0x0" in lines[0]
    assert "fwharden verify --board esp32c3 firmware.elf" in lines[0]


def test_go_project_without_tinygo_is_one_clear_line(tmp_path: Path) -> None:
    project = copy_project(EXAMPLE, tmp_path / "go")
    toml = project / "firmware.toml"
    toml.write_text(toml.read_text().replace('toolchain = "gcc"', 'language = "go"'))
    env = {**os.environ, "PATH": path_without("tinygo")}
    result = scons(project, env=env, check=False)
    assert result.returncode == 2
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert lines == ["fwharden: error: tinygo not found on PATH; fix: TinyGo has no Debian "
                     "package: install it from https://tinygo.org/getting-started/install/"
                     "linux/ (its .deb) and put tinygo on PATH"]


FIRMWARE = REPO / "tests" / "firmware" / "tinygo"
ARM_FINDINGS = {
    ("go-alloc", "UART0RX_IRQHandler"): ["UART0RX_IRQHandler", "machine.(*UART).handleInterrupt",
                                         "runtime.sliceAppend"],
    ("go-alloc", "GPIO1_IRQHandler"): ["GPIO1_IRQHandler", "runtime.alloc"],
    ("go-channel", "TIMER0_IRQHandler"): ["TIMER0_IRQHandler", "main.onTick",
                                          "runtime.chanSend"],
    ("go-goroutine", "TIMER1_IRQHandler"): ["TIMER1_IRQHandler", "run_handler",
                                            "main.startWorker", "internal/task.start"],
    ("go-sync", "SPI_IRQHandler"): ["SPI_IRQHandler", "main.dispatch", "main.lockedUpdate",
                                    "(*sync.Mutex).Lock"],
    ("go-print", "GPIO0_IRQHandler"): ["GPIO0_IRQHandler", "main.report", "runtime.printstring"],
    ("go-panic-defer", "GPIO0_IRQHandler"): ["GPIO0_IRQHandler", "main.report",
                                             "runtime.setupDeferFrame"],
    ("go-blocking", "GPIO0_IRQHandler"): ["GPIO0_IRQHandler", "main.report", "time.Sleep"],
}
RISCV_FINDINGS = {
    ("go-alloc", "MachineSoftware_Handler"): ["MachineSoftware_Handler",
                                              "machine.(*UART).handleInterrupt",
                                              "runtime.sliceAppend"],
    ("go-channel", "MachineTimer_Handler"): ["MachineTimer_Handler", "main.onTick",
                                             "runtime.chanSend"],
    ("go-goroutine", "MachineExternal_Handler"): ["MachineExternal_Handler", "run_handler",
                                                  "main.startWorker", "internal/task.start"],
    ("go-alloc", "handleInterruptASM"): ["handleInterruptASM", "handleInterrupt",
                                         "runtime.alloc"],
    ("go-blocking", "handleInterruptASM"): ["handleInterruptASM", "handleInterrupt",
                                            "main.report", "time.Sleep"],
}


@pytest.mark.parametrize("board", ["mps2-an500", "sifive-e"])
def test_go_rules_on_tinygo_symbols(tmp_path: Path, board: str) -> None:
    elf = built_copy(FIRMWARE, tmp_path / "fw", board)
    report = json.loads((elf.parent / "verify.json").read_text())
    found = {(f["rule"], f["root"]): f for f in report["findings"]}
    expected = ARM_FINDINGS if board == "mps2-an500" else RISCV_FINDINGS
    for key, path in expected.items():
        assert key in found, f"{key} not in {sorted(found)}"
        assert found[key]["path"] == path
        assert found[key]["title"].startswith(("Go ", "goroutine"))
    assert not any(f["rule"] == "indirect-call" for f in report["findings"])
    assert not any("main" in f["path"] for f in report["findings"])
    tick = found[("go-channel", "TIMER0_IRQHandler" if board == "mps2-an500"
                  else "MachineTimer_Handler")]
    assert tick["via"] == "tail"


def test_decode_fault_names_a_goroutine_stack_overflow(tmp_path: Path) -> None:
    elf = built_copy(EXAMPLE, tmp_path / "demo", "sifive-e")
    log = tmp_path / "fault.log"
    log.write_text("FWH-FAULT v=1 arch=riscv type=store-access-fault mcause=0x00000007 "
                   "mepc=0x20400150 mtval=0x80001000 sp=0x80001004 ra=0x204000c6 "
                   "stack=0x000000ff words@0x80001004=0xb83bf575,0x00000000\n")
    result = fwharden("decode-fault", "--elf", str(elf), str(log))
    assert result.returncode == 0, result.stderr
    assert "goroutine stack overflow" in result.stdout
    assert "0xb83bf575 at 0x80001004" in result.stdout


# == Real TinyGo (only where `tinygo` is on PATH; CI has none, the tests above cover it) ==
TINYGO = shutil.which("tinygo")
real_tinygo = pytest.mark.skipif(TINYGO is None, reason="no tinygo on PATH (CI): the clang-built "
                                 "fixtures above stand in; see README 'What runs where'")
GO_EXAMPLE = REPO / "examples" / "tinygo-uart"
# The user's UART handler per board: TinyGo inlines it into the vector (ARM), or into the
# trap dispatch the PLIC claim goes through (RISC-V).
USER_ROOT = {"stm32f407": "USART3_IRQHandler", "fe310": "handleInterruptASM",
             "rp2040": "SPI1_IRQ_IRQHandler", "microbit": "SPI1_TWI1_IRQHandler"}
FAULT_CONTEXT = {"HardFault_Handler", "runtime.handleException"}


@real_tinygo
@pytest.mark.parametrize("board", ["stm32f407", "fe310", "microbit"])
def test_real_tinygo_example_builds_verifies_and_ships(tmp_path: Path, board: str) -> None:
    project = copy_project(GO_EXAMPLE, tmp_path / "go")
    scons(project, f"board={board}")
    out = project / "build" / board
    report = json.loads((out / "verify.json").read_text())
    assert report["verdict"] == "pass"
    # Nothing from TinyGo's own code is an error; the warnings left are the fault handlers
    # (fault context) and bounds that are minimums: TinyGo's task switch moves SP to a
    # goroutine stack in the heap (tinygo_swapTask, `c.mv sp, a0` on RISC-V).
    assert not [f for f in report["findings"] if f["severity"] == "error"]
    for finding in report["findings"]:
        if finding["severity"] == "note":
            continue   # library-model and allowed notes: what the model claimed, and why
        assert (finding["rule"] == "stack-unproven"
                or (finding["rule"], finding["callee"]) == ("dynamic-stack", "tinygo_swapTask")
                or FAULT_CONTEXT & {finding["root"], *finding["path"]}), finding
    # Every artifact of a C build, and the manifest lists them.
    manifest = json.loads((out / "manifest.json").read_text())
    for name in ("firmware.elf", "firmware.bin", "firmware.hex", "firmware.map", "report.html",
                 "verify.json", "findings.sarif", "memory-usage.txt", f"{board}-tinygo.ld"):
        assert (out / name).stat().st_size > 0, name
        assert name in json.dumps(manifest), name
    assert "tinygo version 0.3" in json.dumps(manifest)
    # The linker's own map (the -Map flag in the target JSON) shows TinyGo's stack-size
    # table placed by fwharden's script, and TinyGo's F407 vector file linked.
    mapped = (out / "firmware.map").read_text()
    assert ".tinygo_stacksizes" in mapped
    target = json.loads((out / f"fwharden-{board}.json").read_text())
    root = Path(subprocess.run([TINYGO, "env", "TINYGOROOT"], capture_output=True, text=True,
                               check=True).stdout.strip())
    for extra in target["extra-files"]:
        assert (root / extra).is_file(), extra   # TinyGo joins them onto TINYGOROOT
    if board != "fe310":
        assert "Default_Handler" in mapped   # from TinyGo's vector file (stm32f407.s, nrf51.s)
        syms = symbols(out / "firmware.elf")
        elf_words = _words(out / "firmware.elf", syms["__fwh_vectors_start"], 1)
        assert elf_words == [syms["__fwh_isr_stack_end"]]   # TinyGo starts on _stack_top
        # The user's handler is a root of TinyGo's table, and nothing is found in it.
        roots = {name for irq in report["interrupts"] for name in (irq["name"],
                                                                   *irq.get("aliases", ()))}
        assert USER_ROOT[board] in roots
        assert not [f for f in report["findings"] if f["root"] == USER_ROOT[board]]


@real_tinygo
@pytest.mark.parametrize("board", ["stm32f407", "fe310", "microbit", "rp2040"])
def test_real_tinygo_wrong_handler_fails_naming_each_misuse(tmp_path: Path, board: str) -> None:
    project = copy_project(GO_EXAMPLE, tmp_path / "go")
    result = scons(project, f"board={board}", "tags=wrong", check=False)
    assert result.returncode != 0
    report = json.loads((project / "build" / board / "verify.json").read_text())
    found = {(f["rule"], f["callee"]): f for f in report["findings"]
             if f["severity"] == "error" and f["root"] == USER_ROOT[board]}
    # handler_wrong.go: append (allocates), println, a channel send (TinyGo inlines
    # chanSend; the blocking part is internal/task.Pause), a goroutine start.
    for key in (("go-alloc", "runtime.alloc"), ("go-print", "runtime.printstring"),
                ("go-blocking", "internal/task.Pause"), ("go-goroutine", "internal/task.start")):
        assert key in found, f"{key} not in {sorted(found)}"
        assert found[key]["path"][0] == USER_ROOT[board]
    assert board == "fe310" or f"{USER_ROOT[board]} reaches runtime.alloc" in result.stdout


@real_tinygo
def test_real_tinygo_fe310_runs_in_qemu(tmp_path: Path) -> None:
    # QEMU's sifive_e with revb=on models the HiFive1 Rev B: its mask ROM jumps to
    # 0x20010000, where the fe310 profile (and TinyGo's hifive1b.ld) put the image.
    project = copy_project(GO_EXAMPLE, tmp_path / "go")
    scons(project, "board=fe310")
    elf = project / "build" / "fe310" / "firmware.elf"
    qemu = subprocess.Popen(["qemu-system-riscv32", "-M", "sifive_e,revb=on", "-nographic",
                             "-monitor", "none", "-serial", "stdio", "-kernel", str(elf)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        line = qemu.stdout.readline()   # main's println through TinyGo's UART0 console
    finally:
        qemu.kill()
        qemu.wait()
    assert line.strip() == "tinygo-uart: ready"


@real_tinygo
def test_real_tinygo_registered_timer_callback_is_judged(tmp_path: Path) -> None:
    project = copy_project(FIRMWARE / "timer", tmp_path / "timer")
    scons(project)
    report = json.loads((project / "build" / "stm32f407" / "verify.json").read_text())
    # SetWraparoundInterrupt is in the ELF: TIM2's callback call is not cut.
    assert any(f["rule"] == "indirect-call" and f["root"] == "TIM2_IRQHandler"
               for f in report["findings"])
    assert not any("handleUPInterrupt" in n and "never run" in n for n in report["notes"])
    # Told where it goes, the verifier follows it into the user's callback, which allocates.
    toml = project / "firmware.toml"
    toml.write_text(toml.read_text() + '\n[harden.indirect]\nTIM2_IRQHandler = ["main.onTick"]\n')
    scons(project)
    report = json.loads((project / "build" / "stm32f407" / "verify.json").read_text())
    allocs = [f for f in report["findings"] if f["rule"] == "go-alloc"
              and f["root"] == "TIM2_IRQHandler"]
    assert allocs and allocs[0]["path"][:2] == ["TIM2_IRQHandler", "main.onTick"]


@real_tinygo
def test_real_tinygo_unsupported_board_is_one_line(tmp_path: Path) -> None:
    project = copy_project(GO_EXAMPLE, tmp_path / "go")
    result = scons(project, "board=stm32h743", check=False)
    assert result.returncode == 2
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert lines == ["fwharden: error: board stm32h743: TinyGo 0.33 has no machine support for "
                     f"it; fix: build the Go program for one of {', '.join(sorted(TINYGO_BOARDS))}"
                     ", or use a C toolchain"]
    assert {"stm32f407", "fe310"} <= set(TINYGO_BOARDS)
    # esp32c3: TinyGo supports the chip, with a layout of its own: the line says how.
    result = scons(project, "board=esp32c3", check=False)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert result.returncode == 2 and len(lines) == 1
    assert "boots from flash 0x0" in lines[0] and "--board esp32c3" in lines[0]


def _words(elf: Path, address: int, count: int) -> list[int]:
    """`count` little-endian words at `address`, read with pyelftools (not fwharden)."""
    from elftools.elf.elffile import ELFFile

    with open(elf, "rb") as handle:
        for section in ELFFile(handle).iter_sections():
            start = section["sh_addr"]
            if section["sh_type"] == "SHT_PROGBITS" and start <= address < start + section["sh_size"]:
                data = section.data()[address - start:address - start + 4 * count]
                return [int.from_bytes(data[i:i + 4], "little") for i in range(0, len(data), 4)]
    return []


@real_tinygo
def test_real_tinygo_crash_decodes(tmp_path: Path) -> None:
    project = copy_project(FIRMWARE / "crash", tmp_path / "crash")
    scons(project)
    elf = project / "build" / "fe310" / "firmware.elf"
    qemu = subprocess.run(["timeout", "5", "qemu-system-riscv32", "-M", "sifive_e,revb=on",
                           "-nographic", "-monitor", "none", "-serial", "stdio", "-kernel",
                           str(elf)], capture_output=True, text=True, check=False)
    assert "fatal error: exception with mcause=7" in qemu.stdout   # TinyGo's own line
    log = tmp_path / "crash.log"
    log.write_text(qemu.stdout)
    result = fwharden("decode-fault", "--elf", str(elf), str(log), "--json")
    assert result.returncode == 0, result.stderr
    decoded = json.loads(result.stdout)
    assert decoded["summary"].startswith("TinyGo fatal error: store/AMO access fault")
    assert decoded["pc"]["function"] == "main.poke"      # the store in main.go
    assert decoded["pc"]["file"].endswith("main.go") and decoded["pc"]["line"] == 7


@real_tinygo
def test_real_tinygo_microbit_runs_in_qemu(tmp_path: Path) -> None:
    # QEMU's microbit machine models the nRF51822 and its UART0, TinyGo's console
    # (machine_nrf.go: TXD at 0x4000251C); the image runs from 0x0 as the chip's flash.
    project = copy_project(GO_EXAMPLE, tmp_path / "go")
    scons(project, "board=microbit")
    elf = project / "build" / "microbit" / "firmware.elf"
    qemu = subprocess.Popen(["qemu-system-arm", "-M", "microbit", "-nographic", "-monitor",
                             "none", "-serial", "stdio", "-kernel", str(elf)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        line = qemu.stdout.readline()
    finally:
        qemu.kill()
        qemu.wait()
    assert line.strip() == "tinygo-uart: ready"


# TinyGo's pico runtime starts its USB CDC stack whatever `serial` says
# (src/runtime/runtime_rp2040.go init: cdc.EnableUSBCDC, USBDev.Configure at priority 0).
PICO_USB = "USBCTRL_IRQ_IRQHandler"


@real_tinygo
def test_real_tinygo_pico_uf2_boot2_and_verdict(tmp_path: Path) -> None:
    from test_rp2040 import FAMILY_RP2040, FLASH, crc32_msb_first, read_uf2

    project = copy_project(GO_EXAMPLE, tmp_path / "go")
    toml = project / "firmware.toml"
    toml.write_text(toml.read_text().replace('fail_on = "error"', 'fail_on = "never"'))
    scons(project, "board=rp2040")
    out = project / "build" / "rp2040"
    # The UF2 a Pico's boot ROM takes, checked with test_rp2040's independent reader and
    # CRC: TinyGo's own boot2 (targets/pico-boot-stage2.S) first, its CRC written by
    # TinyGo after the link into the word fwharden's script reserves.
    blocks = read_uf2(out / "firmware.uf2")
    assert {b[4] for b in blocks} == {FAMILY_RP2040} and blocks[0][1] == FLASH
    assert [b[1] for b in blocks] == [FLASH + 256 * i for i in range(len(blocks))]
    boot2 = blocks[0][5]
    assert crc32_msb_first(boot2[:252]) == int.from_bytes(boot2[252:256], "little")
    assert any(boot2[:252])
    syms = symbols(out / "firmware.elf")
    assert syms["__fwh_vectors_start"] == FLASH + 256
    sp, reset = (int.from_bytes(blocks[1][5][i:i + 4], "little") for i in (0, 4))
    assert sp == syms["__fwh_isr_stack_end"] == syms["_stack_top"]
    assert reset == syms["Reset_Handler"] | 1
    # verify: the roots come from TinyGo's 42-entry table; the user's SPI1 handler is
    # clean; every error is in TinyGo's USB stack (a callback table, the ROM's reboot
    # into USB boot) or its bound.
    report = json.loads((out / "verify.json").read_text())
    assert report["vector_table"]["entries"] == 42
    roots = {irq["name"] for irq in report["interrupts"]}
    assert {USER_ROOT["rp2040"], PICO_USB, "UART0_IRQ_IRQHandler"} <= roots
    assert not [f for f in report["findings"] if f["root"] == USER_ROOT["rp2040"]]
    # LLVM's ARMv6-M switches (byte and address tables, no TBB) in TinyGo's USB handler
    # are followed case by case: nothing undecodable, no switch taken for a call.
    assert not [f for f in report["findings"] if f["rule"] == "undecodable"]
    errors = [f for f in report["findings"] if f["severity"] == "error"]
    assert errors and report["verdict"] == "fail"
    for finding in errors:
        assert (finding["root"] == PICO_USB or finding["rule"] in ("recursion",
                                                                   "isr-stack-overflow")), finding


@real_tinygo
def test_real_tinygo_esp32c3_own_target_image_and_verify(tmp_path: Path) -> None:
    # TinyGo's own esp32c3 layout (README "TinyGo": fwharden does not replace it): the
    # image TinyGo writes is one the ROM takes (esptool's own reader), and the ELF
    # verifies with the esp32c3 board. The bare `esp32c3` target does not build in TinyGo
    # 0.33 (machine_esp32c3_i2c.go needs a board's SDA_PIN), so a board target.
    project = copy_project(FIRMWARE / "hello", tmp_path / "hello")
    for name in ("firmware.elf", "firmware.bin"):
        subprocess.run([TINYGO, "build", "-target=xiao-esp32c3", "-o", name, "."],
                       cwd=project, check=True, capture_output=True)
    info = subprocess.run([sys.executable, "-m", "esptool", "--chip", "esp32c3", "image-info",
                           str(project / "firmware.bin")], capture_output=True, text=True)
    assert info.returncode == 0, info.stdout + info.stderr
    assert "Chip ID: 5 (ESP32-C3)" in info.stdout and "Checksum:" in info.stdout
    assert "(valid)" in info.stdout.split("Checksum:")[1].splitlines()[0]
    result = fwharden("verify", "--board", "esp32c3", str(project / "firmware.elf"), "--json",
                      "-")
    assert result.returncode in (0, 1), result.stderr
    report = json.loads(result.stdout)
    assert report["vector_table"]["kind"] != "arm"
    assert "handleInterruptASM" in {irq["name"] for irq in report["interrupts"]}
    # TinyGo's exception handler prints and then waits forever: fault context, warnings.
    prints = [f for f in report["findings"] if f["rule"] == "go-print"]
    assert prints and all(f["severity"] == "warning" and
                          "runtime/interrupt.handleException" in f["path"] for f in prints)


@real_tinygo
@pytest.mark.parametrize(("target", "board", "handlers"), [
    ("pico", "rp2040", {PICO_USB, "TIMER_IRQ_0_IRQHandler"}),
    ("microbit", "microbit", {"UART0_IRQHandler", "RTC1_IRQHandler"}),
])
def test_real_tinygo_own_target_elf_verifies_with_the_board(tmp_path: Path, target: str,
                                                            board: str, handlers: set) -> None:
    # Firmware built elsewhere: TinyGo's own board target and linker script
    # (targets/rp2040.ld, nrf51.ld), no fwharden layout, checked with the board profile.
    project = copy_project(FIRMWARE / "hello", tmp_path / "hello")
    subprocess.run([TINYGO, "build", f"-target={target}", "-o", "firmware.elf", "."],
                   cwd=project, check=True, capture_output=True)
    result = fwharden("verify", "--board", board, str(project / "firmware.elf"), "--json", "-")
    assert result.returncode in (0, 1), result.stderr
    report = json.loads(result.stdout)
    # TinyGo's vector table from the SVD (16 + 26 lines), found by its __isr_vector symbol.
    assert report["vector_table"]["entries"] == 42
    assert handlers <= {irq["name"] for irq in report["interrupts"]}
    assert not [f for f in report["findings"] if f["rule"] == "undecodable"]
    errors = [f for f in report["findings"] if f["severity"] == "error"]
    if board == "microbit":
        assert report["verdict"] == "pass" and not errors
    for finding in errors:   # pico: TinyGo's USB stack and its USB-serial print (as above)
        assert finding["root"] == PICO_USB or finding["rule"] == "recursion", finding


@real_tinygo
def test_real_tinygo_microbit_crash_decodes_in_qemu(tmp_path: Path) -> None:
    # QEMU's microbit raises a precise BusFault (HardFault on ARMv6-M) for the store to
    # unmapped 0x7ffffffc; TinyGo's HardFault_Handler prints its line. Its sp is the MSP
    # (main runs as a goroutine on the PSP), and the pc it read from there is stale:
    # decode-fault says both instead of naming a wrong stack or function.
    project = copy_project(FIRMWARE / "crash", tmp_path / "crash")
    scons(project, "board=microbit")
    elf = project / "build" / "microbit" / "firmware.elf"
    qemu = subprocess.run(["timeout", "5", "qemu-system-arm", "-M", "microbit", "-nographic",
                           "-monitor", "none", "-serial", "stdio", "-kernel", str(elf)],
                          capture_output=True, text=True, check=False)
    assert "fatal error: HardFault with sp=" in qemu.stdout
    log = tmp_path / "crash.log"
    log.write_text(qemu.stdout)
    result = fwharden("decode-fault", "--elf", str(elf), str(log), "--json")
    assert result.returncode == 0, result.stderr
    decoded = json.loads(result.stdout)
    assert decoded["summary"].startswith("TinyGo fatal error: HardFault; sp (the MSP) on")
    assert any("PSP" in detail for detail in decoded["details"])
    if decoded["pc"]["function"] is None:
        assert any("in no function" in detail for detail in decoded["details"])
