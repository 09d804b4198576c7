"""Issue 11 item 5 on RISC-V, in QEMU (sifive_e): code after a trap entry's switch to the
interrupt stack is counted on that stack (tests/firmware/soundness_rv).

Three trap entries of the project's own, in assembly, installed through mtvec from a
function argument: one swaps with `csrrw sp, mscratch, sp`, one loads `la sp,
__isr_stack_top`, one keeps sp (so it runs on the thread stack it interrupts). The expected
answers are not fwharden's: each switching entry's QEMU-measured high water (the run
repaints the watermark between them) must not exceed that entry's static bound, the thread
stack's (with plain_trap on it) the thread bound, and the paths to printf are checked
against a call graph read from `riscv64-unknown-elf-objdump -d`.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest
from conftest import REPO, built_copy, fwharden
from test_soundness import reaches

SOURCE = REPO / "tests" / "firmware" / "soundness_rv"
BOARD = "sifive-e"
VARIANTS = [("gcc", "0"), ("gcc", "2"), ("gcc", "s"), ("clang", "2"), ("clang", "z")]
SWITCHING = ("swap_trap", "la_trap")
ENTRIES = (*SWITCHING, "plain_trap")
_HEADER = re.compile(r"^([0-9a-f]+) <([^>]+)>:$")
_JUMP = re.compile(r"\t(jal|j|jalr|jr|tail|call|c\.j|c\.jal|b[a-z]*)\t.*<([^>+]+)>$")


def objdump_calls(elf: Path) -> dict[str, set[str]]:
    """function -> functions it calls or jumps to (the target is another symbol)."""
    text = subprocess.run(["riscv64-unknown-elf-objdump", "-d", str(elf)],
                          capture_output=True, text=True, check=True).stdout
    graph: dict[str, set[str]] = {}
    current = None
    for line in text.splitlines():
        header = _HEADER.match(line)
        if header and not header.group(2).startswith(".L"):   # clang's local labels
            current = header.group(2)
            graph.setdefault(current, set())
            continue
        if header:
            continue
        jump = _JUMP.search(line)
        if current and jump and jump.group(2) != current:
            graph[current].add(jump.group(2))
    return graph


@pytest.fixture(scope="module", params=VARIANTS, ids=["-".join(v) for v in VARIANTS])
def built(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    toolchain, opt = request.param
    elf = built_copy(SOURCE, tmp_path_factory.mktemp("soundness_rv") / "fw", BOARD,
                     f"toolchain={toolchain}", f"opt={opt}")
    return elf, json.loads((elf.parent / "verify.json").read_text())


def test_both_trap_entries_are_roots_reaching_printf_on_objdump_paths(built) -> None:
    elf, report = built
    audit = objdump_calls(elf)
    assert all(reaches(audit, e, "printf") for e in ENTRIES)
    by_name = {i["name"]: i for i in report["interrupts"]}
    for entry in ENTRIES:
        assert by_name[entry]["labels"] == ["run-time"], by_name[entry]
    stdio = [f for f in report["findings"] if f["rule"] == "stdio"]
    assert {f["root"] for f in stdio} == set(ENTRIES)
    for finding in stdio:
        path = finding["path"]
        assert path[0] == finding["root"] and path[-1] == "printf"
        for caller, callee in zip(path, path[1:], strict=False):
            assert callee in audit[caller], f"{caller} -> {callee} is not in the objdump"
    assert not [f for f in report["findings"] if f["rule"] in ("vector-moved", "roots")]


def test_measured_high_water_of_each_trap_entry_never_exceeds_its_bound(built) -> None:
    elf, report = built
    result = fwharden("run", str(elf), "--board", BOARD, "--timeout", "30")
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    measured = {k: int(v) for k, v in
                re.findall(r"(\w+)=(\d+)", output.split("high-water", 1)[1].splitlines()[0])}
    by_name = {i["name"]: i for i in report["interrupts"]}
    for entry in SWITCHING:
        static = by_name[entry]["stack"]
        print(f"{entry}: static {static['bytes']} B ({static['kind']}), measured "
              f"{measured[entry]} B")
        assert static["kind"] == "exact"
        assert 0 < measured[entry] <= static["bytes"], (entry, measured[entry], static)
    isr, thread = report["isr_stack"]["worst_case"], report["thread_stack"]["worst_case"]
    assert max(measured[e] for e in SWITCHING) <= isr
    print(f"thread: static {thread} B, measured {measured['thread']} B")
    # plain_trap's chain ran on the thread stack: more than the deepest path on its own.
    assert measured["thread"] > by_name["plain_trap"]["stack"]["bytes"]
    assert measured["thread"] <= thread
