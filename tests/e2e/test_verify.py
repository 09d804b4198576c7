"""`fwharden verify` on test firmware built at test time with the real compilers.

tests/firmware/verify holds one handler per scenario. Every build variant must report the
same exact paths: a forbidden call three calls deep, one reached through tail calls, an
unresolved indirect call, a listed indirect call that reaches free, recursion, a switch
jump table (no false finding), printf from main (no finding), weak default handlers as one
root, and on RISC-V a CLINT vectored table installed by main.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import REPO, built_copy, copy_project, fwharden, scons

SOURCE = REPO / "tests" / "firmware" / "verify"
VARIANTS = [("mps2-an500", "gcc", "0"), ("mps2-an500", "gcc", "2"), ("mps2-an500", "gcc", "s"),
            ("mps2-an500", "clang", "2"), ("sifive-e", "gcc", "2")]
ARM_EXPECTED = {
    ("heap", "TIMER0_IRQHandler"): ["TIMER0_IRQHandler", "scenario_deep", "deep_level2",
                                    "deep_level3", "malloc"],
    ("stdio", "TIMER1_IRQHandler"): ["TIMER1_IRQHandler", "scenario_tail", "log_value",
                                     "printf"],
    ("indirect-call", "SPI_IRQHandler"): ["SPI_IRQHandler", "scenario_indirect"],
    ("heap", "UARTOVF_IRQHandler"): ["UARTOVF_IRQHandler", "scenario_dispatch", "bad_op",
                                     "free"],
    ("recursion", "GPIO0_IRQHandler"): ["GPIO0_IRQHandler", "scenario_recursion", "walk"],
}
RISCV_EXPECTED = {
    ("heap", "MachineSoftware_Handler"): ["MachineSoftware_Handler", "scenario_deep",
                                          "deep_level2", "deep_level3", "malloc"],
    ("stdio", "MachineTimer_Handler"): ["MachineTimer_Handler", "scenario_tail", "log_value",
                                        "printf"],
    ("indirect-call", "MachineExternal_Handler"): ["MachineExternal_Handler",
                                                   "scenario_indirect"],
    ("heap", "vt_exception"): ["vt_exception", "scenario_dispatch", "bad_op", "free"],
    ("recursion", "vt_msip"): ["vt_msip", "scenario_recursion", "walk"],
}


@pytest.fixture(scope="module", params=VARIANTS, ids=["-".join(v) for v in VARIANTS])
def report(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    board, toolchain, opt = request.param
    elf = built_copy(SOURCE, tmp_path_factory.mktemp("verify") / "fw", board,
                     f"toolchain={toolchain}", f"opt={opt}")
    out = elf.parent
    return request.param, json.loads((out / "verify.json").read_text()), out


def test_exact_paths(report) -> None:
    (board, toolchain, opt), data, _ = report
    expected = ARM_EXPECTED if board.startswith("mps2") else RISCV_EXPECTED
    found = {(f["rule"], f["root"]): f for f in data["findings"]}
    for key, path in expected.items():
        assert key in found, f"missing {key}; got {sorted(found)}"
        assert found[key]["path"] == path, found[key]
        assert found[key]["severity"] == "error"
    assert data["verdict"] == "fail"
    recursion = next(f for f in data["findings"] if f["rule"] == "recursion")
    assert recursion["cycle"] == ["walk"]
    assert recursion["file"].endswith("scenarios.c") and recursion["line"] > 0
    deep = found[("heap", next(k[1] for k in expected if k[0] == "heap"))]
    assert deep["callee"] == "malloc" and deep["site"] is not None


def test_tail_call_is_seen_as_a_tail_call(report) -> None:
    (board, toolchain, opt), data, _ = report
    root = "TIMER1_IRQHandler" if board.startswith("mps2") else "MachineTimer_Handler"
    finding = next(f for f in data["findings"] if f["root"] == root and f["rule"] == "stdio")
    # gcc -O0 never tail-calls; every optimised build reaches printf by a branch.
    assert finding["via"] == ("call" if opt == "0" else "tail")


def test_no_false_findings(report) -> None:
    (board, _, _), data, _ = report
    switch_root = "GPIO1_IRQHandler" if board.startswith("mps2") else "vt_mtimer"
    roots = {f["root"] for f in data["findings"]}
    assert switch_root not in roots, "a switch jump table is not an indirect call"
    assert not any("main" in f["path"] for f in data["findings"]), "main is thread context"
    assert not any(f["rule"] in ("undecodable", "unknown-target") for f in data["findings"])
    names = {i["name"] for i in data["interrupts"]}
    assert "main" not in names and "Reset_Handler" not in names and "_start" not in names


def test_interrupt_list_and_stack_bounds(report) -> None:
    (board, _, _), data, _ = report
    by_name = {i["name"]: i for i in data["interrupts"]}
    if board.startswith("mps2"):
        default = by_name["Default_Handler"]
        assert len(default["vectors"]) > 20, "weak aliases of Default_Handler are one root"
        assert "IRQ4_Handler" in default["aliases"]
        assert "IRQ4_Handler" not in by_name
        recursive = by_name["GPIO0_IRQHandler"]
        assert by_name["TIMER0_IRQHandler"]["vector"] == 16 + 8
    else:
        assert {"vt_exception", "vt_msip", "vt_mtimer"} <= set(by_name)
        assert by_name["vt_mtimer"]["vector"] == 7
        recursive = by_name["vt_msip"]
        assert "riscv-vectored" in data["vector_table"]["kind"] or "vectored" in \
            data["vector_table"]["source"]
    assert recursive["stack"]["kind"] == "unbounded"
    switch = by_name["GPIO1_IRQHandler" if board.startswith("mps2") else "vt_mtimer"]
    assert switch["stack"]["kind"] == "exact"  # 0 B at -O2: every call is a tail call
    isr = data["isr_stack"]
    assert isr["kind"] == "unbounded" and isr["margin"] is None
    assert any(f["rule"] == "isr-stack-overflow" for f in data["findings"])


def test_sarif_is_2_1_0_with_rules_and_locations(report) -> None:
    _, data, out = report
    sarif = json.loads((out / "findings.sarif").read_text())
    assert sarif["version"] == "2.1.0"
    run = sarif["runs"][0]
    rule_ids = [r["id"] for r in run["tool"]["driver"]["rules"]]
    assert {"heap", "stdio", "indirect-call", "recursion"} <= set(rule_ids)
    assert len(run["results"]) == len(data["findings"])
    for result in run["results"]:
        assert rule_ids[result["ruleIndex"]] == result["ruleId"]
        assert result["level"] in ("error", "warning", "note")
    located = [r for r in run["results"] if "physicalLocation" in r["locations"][0]]
    assert any(r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
               .endswith("scenarios.c") for r in located)


def test_cli_verify_matches_the_build_and_follows_fail_on(report, tmp_path: Path) -> None:
    (board, _, _), data, out = report
    json_out, sarif_out = tmp_path / "r.json", tmp_path / "r.sarif"
    config = out.parent.parent / "firmware.toml"
    assert 'fail_on = "never"' in config.read_text()
    result = fwharden("verify", str(out / "firmware.elf"), "--board", board,
                      "--config", str(config), "--json", str(json_out), "--sarif", str(sarif_out))
    # The findings are errors (verdict FAIL), but the project's fail_on = "never" decides
    # the exit status, as it does for the SCons build.
    assert result.returncode == 0, result.stderr
    assert "verdict: FAIL" in result.stdout
    cli = json.loads(json_out.read_text())
    assert [(f["rule"], f["root"], f["path"]) for f in cli["findings"]] == \
        [(f["rule"], f["root"], f["path"]) for f in data["findings"]]
    strict = tmp_path / "strict.toml"
    strict.write_text(config.read_text().replace('fail_on = "never"', 'fail_on = "error"'))
    result = fwharden("verify", str(out / "firmware.elf"), "--board", board,
                      "--config", str(strict))
    assert result.returncode == 1 and "verdict: FAIL" in result.stdout


def test_prologue_decoding_agrees_with_stack_usage_files(report) -> None:
    """The disassembly's frame equals the compiler's .su value for every function with one,
    except variadic functions, where GCC's .su leaves out the register save area."""
    from fwharden.harden.analysis.frames import load_stack_usage
    from fwharden.harden.elf.image import load_image
    from fwharden.harden.isa.rv32 import decode_riscv
    from fwharden.harden.isa.thumb import decode_arm

    _, _, out = report
    image = load_image(out / "firmware.elf")
    usage = load_stack_usage(sorted(out.rglob("*.su")))
    compared = 0
    for func in image.functions:
        su = next((usage[n] for n in func.names if n in usage), None)
        if su is None:
            continue
        decoded = decode_arm(image, func) if image.family == "arm" else \
            decode_riscv(image, func)[0]
        compared += 1
        assert not decoded.frame_dynamic, (func.name, decoded.frame_note)
        if func.name == "printf":
            assert decoded.frame >= su.bytes
        else:
            assert decoded.frame == su.bytes, (func.name, decoded.frame, su)
    assert compared >= 25


def test_scons_build_fails_on_findings_unless_policy_says_never(tmp_path: Path) -> None:
    project = copy_project(SOURCE, tmp_path / "fw")
    toml = project / "firmware.toml"
    toml.write_text(toml.read_text().replace('fail_on = "never"', 'fail_on = "error"'))
    result = scons(project, "board=mps2-an386", check=False)
    assert result.returncode != 0
    assert "interrupt-safety check failed" in result.stderr
    assert "ERROR [heap] TIMER0_IRQHandler reaches malloc" in result.stdout
    out = project / "build" / "mps2-an386"
    assert json.loads((out / "verify.json").read_text())["verdict"] == "fail"
    # The link is kept for inspection; the finished (stack-map filled) firmware is not made.
    assert (out / "firmware.unpatched.elf").exists()
    assert not (out / "firmware.elf").exists()


def test_allow_and_forbid_lists(tmp_path: Path) -> None:
    project = copy_project(SOURCE, tmp_path / "fw")
    toml = project / "firmware.toml"
    toml.write_text(toml.read_text() + '\n[harden.allow]\nprintf = "test build logs to RAM"\n'
                    '\n[harden.forbid]\ntwice = "doubles are forbidden in this test"\n')
    scons(project, "board=mps2-an386")
    data = json.loads((project / "build" / "mps2-an386" / "verify.json").read_text())
    rules = {(f["rule"], f["root"]) for f in data["findings"]}
    assert ("stdio", "TIMER1_IRQHandler") not in rules
    project_rule = next(f for f in data["findings"] if f["rule"] == "project")
    assert project_rule["path"] == ["GPIO1_IRQHandler", "scenario_switch", "twice"]
    assert project_rule["reason"] == "doubles are forbidden in this test"
