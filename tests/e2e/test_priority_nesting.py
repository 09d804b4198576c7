"""Equal priorities do not nest, measured in QEMU (tests/firmware/priorities/nest).

UART0RX and UART0TX share priority 2, UART1RX has 1. UART0RX pends the other two: the
firmware reports whether each ran inside it, and the interrupt stack's high water. The
oracle is the run: UART0TX must not nest (same group priority, ARMv7-M ARM B1.5.4) and
UART1RX must (the measurement sees nesting when it happens); the static worst case, which
now stacks one handler per priority, must still cover the measured high water.
"""

from __future__ import annotations

import json
import re

import pytest
from conftest import REPO, built_copy, fwharden

BOARD = "mps2-an386"


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory):
    elf = built_copy(REPO / "tests" / "firmware" / "priorities" / "nest",
                     tmp_path_factory.mktemp("nest") / "nest", BOARD)
    return elf, json.loads((elf.parent / "verify.json").read_text())


def test_equal_priorities_do_not_stack(built) -> None:
    elf, report = built
    run = fwharden("run", str(elf), "--board", BOARD, "--timeout", "30")
    output = run.stdout + run.stderr
    assert run.returncode == 0, output
    line = next(line for line in output.splitlines() if "tx_inside=" in line)
    measured = dict(re.findall(r"(\w+)=(\d+)", line))
    assert measured["tx_inside"] == "0"          # equal priority: ran after, not inside
    assert measured["rx1_inside"] == "1"         # higher priority: preempted
    prio = {i["name"]: i["priority"] for i in report["interrupts"]}
    assert prio["UART0RX_IRQHandler"]["level"] == prio["UART0TX_IRQHandler"]["level"] == 2
    assert prio["UART1RX_IRQHandler"]["level"] == 1
    assert prio["UART0RX_IRQHandler"]["origin"] == "NVIC_IPR byte 0xe000e400 = 0x40 in main"
    isr = report["isr_stack"]
    stacks = {i["name"]: i["stack"]["bytes"] for i in report["interrupts"]}
    frame = isr["levels"][0]["hardware_frame"]
    everything = sum(stacks.values()) + frame * len(stacks)    # every handler nesting
    # One level for UART0RX and UART0TX: the smaller of the two is not stacked.
    smaller = min(stacks["UART0RX_IRQHandler"], stacks["UART0TX_IRQHandler"])
    assert isr["worst_case"] == everything - smaller - frame
    used = int(measured["isr"])
    print(f"static {isr['worst_case']} B (all nesting: {everything} B), measured {used} B")
    assert 0 < used <= isr["worst_case"]
