"""Issue 17 item 2: the hand-off primitives (fwh_handoff.h) under QEMU and under verify.

tests/firmware/handoff: a timer interrupt at about 20 kHz pushes N sequence-numbered items
into an SPSC ring while main pops them; a second interrupt of higher priority (pended from
inside the first on Cortex-M, so it nests) pushes into its own ring and sets a flag. The
firmware counts what arrived; the test checks the counts it prints: nothing lost beyond
the refusals the ring counted, nothing duplicated or reordered, the flag seen and clear at
the end. verify must find nothing in the handlers that call the primitives.
"""

from __future__ import annotations

import json
import re
import subprocess

import pytest
from conftest import REPO, built_copy, fwharden

from fwharden.board_profiles import load_profile
from fwharden.board_profiles.loader import list_boards
from fwharden.runtime import RUNTIME_DIR
from fwharden.toolchain.flags import arch_flags

SOURCE = REPO / "tests" / "firmware" / "handoff"
BOARDS = ("mps2-an386", "mps2-an500", "sifive-e")
N = 20000


@pytest.mark.parametrize("board", BOARDS)
def test_no_item_lost_or_duplicated(board, tmp_path) -> None:
    elf = built_copy(SOURCE, tmp_path / "handoff", board)
    result = fwharden("run", str(elf), "--board", board, "--timeout", "60")
    output = result.stdout + result.stderr
    print(board, output)
    rows = {name: dict((k, int(v)) for k, v in re.findall(r"(\w+)=(\d+)", line))
            for name, line in re.findall(r"handoff: (fast|slow) (.*)", output)}
    assert set(rows) == {"fast", "slow"}, output
    fast, slow = rows["fast"], rows["slow"]
    assert fast["sent"] == N
    for row in (fast, slow):
        assert row["bad"] == 0                       # no duplicate, no reordering
        assert row["got"] + row["refused"] == row["sent"]   # none lost beyond refusals
    assert fast["refused"] > 0, "the stalls never filled the ring: refusals untested"
    last = next(line for line in output.splitlines() if line.startswith("handoff: flags"))
    tail = {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", last)}
    assert tail["again"] == 0 and tail["flags"] > 0
    if board.startswith("mps2"):
        assert tail["nested"] > 0, "the second interrupt never preempted the first"
    assert result.returncode == 0, output
    # The handlers calling the primitives verify clean: no finding names them.
    report = json.loads((elf.parent / "verify.json").read_text())
    handlers = {"TIMER0_IRQHandler", "TIMER1_IRQHandler", "MachineTimer_Handler",
                "MachineSoftware_Handler"}
    bad = [f for f in report["findings"] if f.get("root") in handlers
           and f["severity"] in ("error", "warning")]
    assert bad == []


@pytest.mark.parametrize("board", list_boards())
def test_primitives_on_every_catalog_core(board, tmp_path) -> None:
    """Compiled for each catalog core with the flags the build uses: no exclusive or atomic
    instruction (ARMv6-M has no LDREX/STREX, RV32IMC no A extension), and the barrier
    between the item and the index that publishes or frees it. The oracle is objdump."""
    profile = load_profile(board)
    arm = profile.cpu.family == "arm"
    cc = "arm-none-eabi-gcc" if arm else "riscv64-unknown-elf-gcc"
    obj = tmp_path / "handoff.o"
    subprocess.run([cc, *arch_flags(profile, "gcc"), "-O2", "-ffreestanding", "-ffunction-sections",
                    "-I", str(RUNTIME_DIR), "-c", str(RUNTIME_DIR / "common" / "handoff.c"),
                    "-o", str(obj)], check=True)
    dump = subprocess.run([cc.replace("gcc", "objdump"), "-d", str(obj)], check=True,
                          capture_output=True, text=True).stdout
    bodies = dict(re.findall(r"<(fwh_\w+)>:\n((?:\s+[0-9a-f]+:.*\n)+)", dump))
    assert set(bodies) >= {"fwh_flag_set", "fwh_flag_take", "fwh_ring_push", "fwh_ring_pop"}
    mnemonics = re.findall(r"^\s+[0-9a-f]+:\s+(?:[0-9a-f]{4,8} ?)+\s+(\S+)", dump, re.M)
    assert not [m for m in mnemonics if m.startswith(("ldrex", "strex", "amo", "lr.", "sc."))]
    barrier = "dmb" if arm else "fence"
    for name in ("fwh_flag_set", "fwh_ring_push", "fwh_ring_pop"):
        assert barrier in bodies[name], (name, bodies[name])
    if profile.cpu.arch == "armv6-m":   # only ARMv6-M's 32-bit instructions (DDI 0419 A5.2)
        wide = re.findall(r"^\s+[0-9a-f]+:\s+[0-9a-f]{4} [0-9a-f]{4}\s+(\S+)", dump, re.M)
        assert set(wide) <= {"bl", "dmb", "dsb", "isb", "mrs", "msr"}, wide
