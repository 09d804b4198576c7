"""verify.json and SARIF from a hand-built VerifyResult: the schema that ships holds, the
rule catalogue's words carry over, whole-firmware findings have no sentinel names."""

from __future__ import annotations

import dataclasses
import json

import jsonschema
import pytest

from fwharden.harden import (
    Bound,
    Finding,
    HardenPolicy,
    PathStep,
    StackCheck,
    StackLevel,
    VectorTable,
    VerifyResult,
    should_fail,
    to_json,
    to_sarif,
)
from fwharden.harden.analysis.findings import RULE_TEXT, make_finding
from fwharden.harden.analysis.stacks import InterruptReport
from fwharden.harden.report.json import json_text, verify_schema
from fwharden.harden.report.text import describe_report


def _result(*findings: Finding) -> VerifyResult:
    irq = InterruptReport(vectors=(16, 17), labels=("IRQ 0", "IRQ 1"), name="uart_isr",
                          aliases=("UART1_IRQHandler",), address=0x0800_0124, kind="handler",
                          stack=Bound(48, "exact"),
                          deepest=(PathStep("uart_isr", 16), PathStep("log", 32)))
    isr = StackCheck("interrupt stack", 1024, Bound(156, "exact"),
                     (StackLevel("uart_isr (priority not given)", Bound(48, "exact"), 108),))
    return VerifyResult(elf="build/x/firmware.elf", family="arm", board="mps2-an386",
                        table=VectorTable("arm", 0, 48, "section .isr_vector", (), None),
                        interrupts=(irq,), findings=findings, isr_stack=isr, thread_stack=None,
                        functions_analysed=3, instructions=42)


HEAP = Finding(rule="heap", severity="error", title="heap allocation", reason="not reentrant",
               root="uart_isr", path=("uart_isr", "log", "malloc"), callee="malloc",
               site=0x0800_0130, message="uart_isr reaches malloc (heap allocation)",
               file="src/log.c", line=12, via="call")
INDIRECT = make_finding("indirect-call", {}, "indirect call in log at 0x08000140 with no "
                        "known targets", root="uart_isr", path=("uart_isr", "log"),
                        site=0x0800_0140, via="indirect")
OVERFLOW = make_finding("isr-stack-overflow", {}, "interrupt stack: worst case 2000 B exceeds")
UNPROVEN = make_finding("stack-unproven", {}, "interrupt stack: worst case is at least 8 B")


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft202012Validator:
    schema = verify_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


@pytest.mark.parametrize("findings", [(), (HEAP,), (HEAP, INDIRECT, OVERFLOW, UNPROVEN)])
def test_verify_json_follows_the_shipped_schema(findings, validator) -> None:
    document = to_json(_result(*findings))
    validator.validate(document)
    assert json.loads(json_text(document)) == document


def test_the_schema_rejects_what_it_must(validator) -> None:
    document = to_json(_result(HEAP))
    for broken in ({**document, "verdict": "maybe"},
                   {**document, "findings": [{**document["findings"][0], "root": ""}]},
                   {**document, "isr_stack": {**document["isr_stack"], "kind": "roughly"}}):
        with pytest.raises(jsonschema.ValidationError):
            validator.validate(broken)


def test_json_keeps_the_names_ci_scripts_read() -> None:
    document = to_json(_result(HEAP, OVERFLOW))
    assert document["verdict"] == "fail"
    [irq] = document["interrupts"]
    assert (irq["vector"], irq["stack"]) == (16, {"bytes": 48, "kind": "exact"})
    assert irq["deepest_path"] == [{"function": "uart_isr", "frame": 16},
                                   {"function": "log", "frame": 32}]
    overflow = document["findings"][1]
    assert overflow["root"] is None and overflow["callee"] is None and overflow["via"] is None
    assert document["isr_stack"]["levels"][0] == {
        "level": "uart_isr (priority not given)", "handler": 48, "handler_kind": "exact",
        "hardware_frame": 108}


def test_sarif_rules_results_and_locations() -> None:
    sarif = to_sarif(_result(HEAP, INDIRECT, OVERFLOW))
    assert sarif["version"] == "2.1.0"
    run = sarif["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == ["heap", "indirect-call", "isr-stack-overflow"]
    assert rules[1]["shortDescription"]["text"] == RULE_TEXT["indirect-call"][0]
    heap, indirect, overflow = run["results"]
    assert heap["locations"][0]["physicalLocation"] == {
        "artifactLocation": {"uri": "src/log.c"}, "region": {"startLine": 12}}
    assert heap["locations"][0]["properties"]["address"] == "0x08000130"
    assert indirect["locations"][0]["logicalLocations"] == [{"name": "log", "kind": "function"}]
    assert overflow["locations"][0]["logicalLocations"] == [{"name": "firmware.elf",
                                                             "kind": "module"}]
    assert overflow["partialFingerprints"]["fwharden/v1"] == "isr-stack-overflow:::"
    assert [r["ruleIndex"] for r in run["results"]] == [0, 1, 2]


def test_absolute_source_paths_become_file_uris() -> None:
    finding = dataclasses.replace(HEAP, file="/src/fw/log.c")
    [result] = to_sarif(_result(finding))["runs"][0]["results"]
    assert result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == \
        "file:///src/fw/log.c"


def test_text_report_names_the_verdict_and_the_chain() -> None:
    text = describe_report(_result(HEAP, UNPROVEN))
    assert "ERROR [heap] uart_isr reaches malloc (heap allocation) at 0x08000130 (src/log.c:12)" \
        in text
    assert "    path: uart_isr -> log -> malloc" in text
    assert "uart_isr (priority not given): 48 B + 108 B exception frame" in text
    assert text.rstrip().endswith("verdict: FAIL (1 errors, 1 warnings; 3 functions, 42 "
                                  "instructions analysed)")


@pytest.mark.parametrize(("fail_on", "findings", "fails"), [
    ("error", (HEAP,), True), ("error", (UNPROVEN,), False), ("error", (), False),
    ("warning", (UNPROVEN,), True), ("never", (HEAP, OVERFLOW), False),
])
def test_should_fail_is_the_one_fail_on_decision(fail_on, findings, fails) -> None:
    assert should_fail(_result(*findings), HardenPolicy(fail_on=fail_on)) is fails


def test_results_are_frozen() -> None:
    result = _result(HEAP)
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.findings = ()  # type: ignore[misc]
    assert isinstance(result.findings, tuple) and isinstance(result.interrupts, tuple)
