"""Issue 11 oracles on firmware built the way real projects build (tests/firmware/soundness):
three handlers reach printf through one shared error handler, a handler exists only in the
RAM copy of the vector table (VTOR moved, the vector stored through VTOR like CMSIS
NVIC_SetVector), another only in a pico-sdk-style shared chain slot built in RAM
(irq_add_shared_handler), a handler reaches malloc through code in RAM and the long-branch
veneers GNU ld (or ld.lld's thunks) put between RAM and flash, and QEMU measures the stacks
under an input that fires the handlers.

The expected answers are not fwharden's: paths are checked against a call graph read from
`arm-none-eabi-objdump -d`, stack bounds against the high water the run measures.
"""

from __future__ import annotations

import json
import re
import subprocess
from collections import deque
from pathlib import Path

import jsonschema
import pytest
from conftest import REPO, built_copy, fwharden
from test_sarif import sarif_schema

SOURCE = REPO / "tests" / "firmware" / "soundness"
BOARD = "mps2-an386"
VARIANTS = [("gcc", "0"), ("gcc", "2"), ("gcc", "s"), ("clang", "2"), ("clang", "z")]
HANDLERS = ("UART0RX_IRQHandler", "UART0TX_IRQHandler", "UART1TX_IRQHandler", "late_handler")
_HEADER = re.compile(r"^([0-9a-f]+) <([^>]+)>:$")
_BRANCH = re.compile(r"\t(bl|blx|b|b\.w|b\.n|b[a-z]{2}(?:\.w|\.n)?)\s+[0-9a-f]+ <([^>+]+)>$")
# GNU ld's long-branch veneer `__X_veneer` (ldr.w pc, [pc]; .word X) and ld.lld's thunk
# `__Thumbv7ABSLongThunk_X` (movw ip, #lo; movt ip, #hi; bx ip).
_STUB = re.compile(r"^__(.+)_veneer$|^__Thumbv7ABSLongThunk_(.+)$")
_WORD = re.compile(r"\t\.word\t0x([0-9a-f]+)")
_MOVW = re.compile(r"\tmovw\tip, #(\d+)")
_MOVT = re.compile(r"\tmovt\tip, #(\d+)")


def objdump_listing(elf: Path) -> str:
    return subprocess.run(["arm-none-eabi-objdump", "-d", str(elf)], capture_output=True,
                          text=True, check=True).stdout


def objdump_calls(elf: Path) -> dict[str, set[str]]:
    """function -> functions it branches or calls to (the target is another symbol); a
    veneer or thunk goes to the function whose address its body loads into PC."""
    graph: dict[str, set[str]] = {}
    address: dict[str, int] = {}
    loads: dict[str, int] = {}
    current = None
    for line in objdump_listing(elf).splitlines():
        header = _HEADER.match(line)
        if header:
            current = header.group(2)
            address[current] = int(header.group(1), 16)
            graph.setdefault(current, set())
            continue
        if current is None:
            continue
        branch = _BRANCH.search(line)
        if branch and branch.group(2) != current:
            graph[current].add(branch.group(2))
        if _STUB.match(current):
            if (word := _WORD.search(line)) and current not in loads:
                loads[current] = int(word.group(1), 16)
            elif movw := _MOVW.search(line):
                loads[current] = int(movw.group(1))
            elif movt := _MOVT.search(line):
                loads[current] = loads.get(current, 0) | int(movt.group(1)) << 16
    for stub, value in loads.items():
        target = next(g for g in _STUB.match(stub).groups() if g)
        if address.get(target) == value & ~1:
            graph[stub].add(target)
    return graph


def reaches(graph: dict[str, set[str]], start: str, goal: str) -> bool:
    seen, todo = {start}, deque([start])
    while todo:
        node = todo.popleft()
        if node == goal:
            return True
        for nxt in graph.get(node, ()):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return False


@pytest.fixture(scope="module", params=VARIANTS, ids=["-".join(v) for v in VARIANTS])
def built(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    toolchain, opt = request.param
    elf = built_copy(SOURCE, tmp_path_factory.mktemp("soundness") / "fw", BOARD,
                     f"toolchain={toolchain}", f"opt={opt}")
    return elf, json.loads((elf.parent / "verify.json").read_text())


def test_every_root_reaching_printf_has_its_own_finding_on_an_objdump_path(built) -> None:
    elf, report = built
    audit = objdump_calls(elf)
    expected = {h for h in HANDLERS if h in audit and reaches(audit, h, "printf")}
    assert expected >= {"UART0RX_IRQHandler", "UART0TX_IRQHandler", "UART1TX_IRQHandler"}
    stdio = [f for f in report["findings"] if f["rule"] == "stdio"]
    assert {f["root"] for f in stdio} == expected
    for finding in stdio:
        path = finding["path"]
        assert path[0] == finding["root"] and path[-1] == "printf"
        for caller, callee in zip(path, path[1:], strict=False):
            assert callee in audit[caller], f"{caller} -> {callee} is not in the objdump"


def test_handler_installed_at_run_time_is_a_root(built) -> None:
    _, report = built
    names = {i["name"] for i in report["interrupts"]}
    moved = [f for f in report["findings"] if f["rule"] == "vector-moved"]
    # Either the verifier followed the store into the RAM table, or it says it cannot.
    assert "late_handler" in names or any(f["severity"] == "error" for f in moved)
    if "late_handler" in names:
        late = next(i for i in report["interrupts"] if i["name"] == "late_handler")
        assert late["vectors"] == [-2] and late["labels"] == ["run-time"]


def test_measured_high_water_never_exceeds_the_static_bound(built) -> None:
    elf, report = built
    result = fwharden("run", str(elf), "--board", BOARD, "--timeout", "30")
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    measured = dict(re.findall(r"(isr|thread)=(\d+)", output.split("high-water", 1)[1]))
    for name, key in (("isr", "isr_stack"), ("thread", "thread_stack")):
        static, used = report[key]["worst_case"], int(measured[name])
        print(f"{name}: static {static} B ({report[key]['kind']}), measured {used} B")
        assert 0 < used <= static, f"{name}: measured {used} B > static {static} B"


def test_sarif_results_of_one_site_point_at_each_other(built) -> None:
    elf, report = built
    log = json.loads((elf.parent / "findings.sarif").read_text())
    jsonschema.Draft4Validator(sarif_schema()).validate(log)
    stdio = [r for r in log["runs"][0]["results"] if r["ruleId"] == "stdio"]
    roots = {f["root"] for f in report["findings"] if f["rule"] == "stdio"}
    assert len(stdio) == len(roots) >= 3      # JSON and SARIF: one per root
    for result in stdio:
        own = result["message"]["text"].split(" reaches ")[0]
        related = {loc["logicalLocations"][0]["name"] for loc in result["relatedLocations"]}
        assert related == roots - {own}


def test_malloc_through_ram_code_and_long_branch_veneers(built) -> None:
    elf, report = built
    audit = objdump_calls(elf)
    # The fixture tests veneers only while the linker still makes them: both directions.
    stubs = {n for n in audit if _STUB.match(n)}
    targets = {next(g for g in _STUB.match(n).groups() if g) for n in stubs if audit[n]}
    assert {"ram_worker", "flash_helper"} <= targets, stubs
    assert reaches(audit, "GPIO1_IRQHandler", "malloc")
    heap = [f for f in report["findings"] if f["rule"] == "heap"]
    assert {f["root"] for f in heap} == {"GPIO1_IRQHandler"}
    (finding,) = heap
    path = finding["path"]
    assert path[0] == "GPIO1_IRQHandler" and path[-1] == "malloc"
    assert "ram_worker" in path and sum(1 for n in path if _STUB.match(n)) == 2, path
    for caller, callee in zip(path, path[1:], strict=False):
        assert callee in audit[caller], f"{caller} -> {callee} is not in the objdump"


def _su_frames(elf: Path) -> dict[str, int]:
    frames = {}
    for su in (elf.parent / "obj").rglob("*.su"):
        for line in su.read_text().splitlines():
            location, size, _kind = line.split("\t")
            frames[location.rsplit(":", 1)[-1]] = int(size)
    return frames


def test_handler_added_to_a_shared_chain_is_a_root_below_the_chain_frame(built) -> None:
    elf, report = built
    moved = [f for f in report["findings"] if f["rule"] == "vector-moved"]
    assert not moved, moved
    by_name = {i["name"]: i for i in report["interrupts"]}
    chained, late = by_name["chained_handler"], by_name["late_handler"]
    assert chained["labels"] == ["run-time", "IRQ 6"]
    # The slot's `push {r0, lr}` (8 B, counted by hand from the fixture's trampoline) is
    # below the handler; where the compiler gave both handlers the same frame and they
    # call deep_work alike, the chained one's bound is the other's plus 8.
    frames = _su_frames(elf)
    if frames.get("chained_handler") == frames.get("late_handler"):
        assert chained["stack"]["bytes"] == late["stack"]["bytes"] + 8
    assert chained["stack"]["bytes"] >= frames.get("chained_handler", 0) + 8
