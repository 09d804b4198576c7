"""Issue 17 item 4: interrupt durations ([runtime] irq_cycles) under QEMU and per core.

tests/firmware/cycles: two handlers, LONG (20000 spins, pends SHORT from inside: on
Cortex-M SHORT nests in it) and SHORT (200 spins), run 20 times each; the firmware prints
how often each ran, the runtime's `irq-cycles` line and the high-water marks.

What QEMU 7.2 can show: on sifive_e mcycle counts (it reads the host's time-stamp
counter, target/riscv/csr.c, so the numbers are host ticks, not FE310 cycles), so both
slots must hold a nonzero maximum, LONG's at least one tick per spin. The mps2 boards
model no DWT (the ROM table, DEMCR and DWT read as zero), so the runtime must find no
counter, fault nowhere, leave every slot 0 and still run every handler through its
wrapper, nested ones included. The slots the stack map names are the ELF's own symbols.
Whether each core's build reads its counter the right way is checked on the compiled
runtime with objdump (the oracle), for every catalog core.
"""

from __future__ import annotations

import re
import socket
import subprocess

import pytest
from conftest import REPO, built_copy, fwharden
from elftools.elf.elffile import ELFFile

from fwharden.board_profiles import load_profile
from fwharden.board_profiles.loader import list_boards
from fwharden.harden.faults.stackmap import parse_stackmap
from fwharden.runtime import RUNTIME_DIR
from fwharden.toolchain.flags import arch_flags, board_defines

SOURCE = REPO / "tests" / "firmware" / "cycles"
RUNS, LONG_SPIN, SHORT_SPIN = 20, 20000, 200


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """Each board built and run once for the module: board -> (ELF, status, output)."""
    cache = {}

    def get(board: str):
        if board not in cache:
            elf = built_copy(SOURCE, tmp_path_factory.mktemp(board) / "cycles", board)
            result = fwharden("run", str(elf), "--board", board, "--timeout", "60")
            cache[board] = (elf, result.returncode, result.stdout + result.stderr)
        return cache[board]
    return get


@pytest.fixture(params=("sifive-e", "mps2-an386"))
def run(request, built):
    return (request.param, *built(request.param))


def _fields(line: str) -> dict[str, int]:
    return {(int(k) if k.isdigit() else k): int(v) for k, v in re.findall(r"(\w+)=(\d+)", line)}


def test_handlers_run_and_the_slots_hold_what_the_counter_gives(run) -> None:
    board, _elf, status, output = run
    print(board, output)
    assert status == 0, output
    line = re.search(r"^cycles: (.*)$", output, re.M)
    assert line, output
    runs = _fields(line.group(1))
    assert runs["long"] == runs["short"] == RUNS       # every wrapped handler ran
    counter = re.search(r"^irq-cycles counter=(\w+)(.*)$", output, re.M)
    assert counter, output
    slots = _fields(counter.group(2))
    if board == "sifive-e":
        assert counter.group(1) == "mcycle"
        assert set(slots) == {runs["long_slot"], runs["short_slot"]} == {3, 7}
        assert slots[runs["long_slot"]] >= LONG_SPIN
        assert slots[runs["short_slot"]] > 0
    else:
        # QEMU's mps2: no DWT; nothing timed, no fault (status 0 above).
        assert counter.group(1) == "none"
        assert slots == {}
    assert re.search(r"^high-water isr=\d+ thread=\d+$", output, re.M)


def test_the_stack_map_names_the_slots(run) -> None:
    board, elf, _status, _output = run
    with open(elf, "rb") as handle:
        image = ELFFile(handle)
        symbols = {s.name: s for s in image.get_section_by_name(".symtab").iter_symbols()}
        cycles = parse_stackmap(image.get_section_by_name(".fwh_stackmap").data()).cycles
    assert cycles is not None
    assert cycles.slots == symbols["fwh_irq_cycles_max"]["st_value"]
    assert cycles.counter == symbols["fwh_irq_cycles_counter"]["st_value"]
    assert cycles.count == load_profile(board).vector_count
    assert symbols["fwh_irq_cycles_max"]["st_size"] == 4 * cycles.count


def test_cortex_m_vectors_point_at_the_wrappers(built) -> None:
    elf, _status, _output = built("mps2-an386")
    with open(elf, "rb") as handle:
        image = ELFFile(handle)
        symbols = {s.name: s["st_value"] for s in image.get_section_by_name(".symtab")
                   .iter_symbols() if s["st_info"]["type"] == "STT_FUNC"}
        table = image.get_section_by_name(".isr_vector").data()
    word = [int.from_bytes(table[4 * i:4 * i + 4], "little") for i in range(48)]
    assert word[24] == symbols["fwh_timed_TIMER0_IRQHandler"]
    assert word[25] == symbols["fwh_timed_TIMER1_IRQHandler"]
    assert word[15] == symbols["fwh_timed_SysTick_Handler"]
    # Not wrapped: the fault reporter and PendSV/SVCall read EXC_RETURN from LR.
    assert word[3] == symbols["fwh_fault_entry"] or word[3] == symbols["HardFault_Handler"]
    assert not [n for n, a in symbols.items() if n.startswith("fwh_timed_") and
                a in (word[11], word[14], word[2], word[3])]


def _compiled_runtime(board: str, tmp_path) -> str:
    profile = load_profile(board)
    arm = profile.cpu.family == "arm"
    cc = "arm-none-eabi-gcc" if arm else "riscv64-unknown-elf-gcc"
    obj = tmp_path / "cycles.o"
    defines = [f"-D{d}" for d in (*board_defines(profile), "FWH_IRQ_CYCLES=1")]
    subprocess.run([cc, *arch_flags(profile, "gcc"), "-O2", "-ffreestanding", "-Wall",
                    "-Werror", *defines, "-I", str(RUNTIME_DIR), "-c",
                    str(RUNTIME_DIR / "common" / "cycles.c"), "-o", str(obj)], check=True)
    return subprocess.run([cc.replace("gcc", "objdump"), "-d", "-r", str(obj)], check=True,
                          capture_output=True, text=True).stdout


@pytest.mark.parametrize("board", list_boards())
def test_each_core_reads_the_counter_it_has(board, tmp_path) -> None:
    """DWT (DWT_CTRL 0xE0001000, ROM table 0xE00FF000) on ARMv7-M/v8-M Mainline, nothing
    on ARMv6-M; mcycle (csr 0xb00) on RISC-V, mcountinhibit (0x320) only on the Nuclei
    ECLIC core, nothing on the ESP32-C3. The oracle is objdump of the compiled runtime."""
    profile = load_profile(board)
    dump = _compiled_runtime(board, tmp_path)
    if profile.cpu.family == "arm":
        # The literal pool words of the DWT and ROM table addresses (the compiler reaches
        # CYCCNT at 0xE0001004 as DWT_CTRL + 4).
        dwt = re.search(r"\.word\s+0xe0001000", dump) is not None
        rom = re.search(r"\.word\s+0xe00ff000", dump) is not None
        has = profile.cpu.arch != "armv6-m"
        assert (dwt, rom) == (has, has), dump
        masked = re.search(r"\bcpsid\s+i", dump) is not None
        assert masked == has
    else:
        mcycle = re.search(r"csrr\s+\w+,\s*mcycle", dump) is not None
        inhibit = re.search(r"csr\w*\s+(0x320|mcountinhibit)", dump) is not None
        assert mcycle == (profile.interrupts.controller != "intmatrix"), dump
        assert inhibit == (profile.interrupts.controller == "eclic"), dump


def test_gdb_prints_the_cycles_with_the_high_water_marks(built) -> None:
    """fwh-stacks in a `fwharden debug` batch session, stopped at fwh_exit: the cycle
    table follows the stack table and holds what the firmware itself printed."""
    elf, _status, _output = built("sifive-e")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    result = fwharden("debug", str(elf), "--port", str(port), "--", "-batch",
                      "-ex", "break fwh_exit", "-ex", "continue", "-ex", "fwh-stacks")
    output = result.stdout + result.stderr
    print(output)
    assert result.returncode == 0, output
    printed = _fields(re.search(r"^irq-cycles counter=mcycle(.*)$", output, re.M).group(1))
    assert re.search(r"^isr\s+\d+ B", output, re.M)
    assert "irq cycles (mcycle): 2 of 16 slots ran" in output
    rows = {int(slot): (name, int(value)) for slot, name, value in
            re.findall(r"^\s+(\d+) (\w+)\s+(\d+)$", output, re.M)}
    assert rows == {3: ("MachineSoftware_Handler", printed[3]),
                    7: ("MachineTimer_Handler", printed[7])}
