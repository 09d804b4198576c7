"""Issue 11 oracles on firmware built the way real projects build (tests/firmware/soundness):
three handlers reach printf through one shared error handler, a handler exists only in the
RAM copy of the vector table (VTOR moved, the vector stored through VTOR like CMSIS
NVIC_SetVector), and QEMU measures the stacks under an input that fires every handler.

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


def objdump_calls(elf: Path) -> dict[str, set[str]]:
    """function -> functions it branches or calls to (the target is another symbol)."""
    text = subprocess.run(["arm-none-eabi-objdump", "-d", str(elf)], capture_output=True,
                          text=True, check=True).stdout
    graph: dict[str, set[str]] = {}
    current = None
    for line in text.splitlines():
        header = _HEADER.match(line)
        if header:
            current = header.group(2)
            graph.setdefault(current, set())
            continue
        branch = _BRANCH.search(line)
        if current and branch and branch.group(2) != current:
            graph[current].add(branch.group(2))
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
