"""verify.json and findings.sarif of tests/firmware/verify (mps2-an386, gcc -O2) against the
reviewed references in tests/golden/verify/, the shipped JSON Schema against a real
verify.json, and the README's Python API example run on a real ELF.

After a deliberate change: `pytest tests/e2e/test_golden_verify.py --regen-golden`, then
review the diff (every line of it is a claim fwharden makes about that firmware).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
from pathlib import Path

import jsonschema
import pytest
from conftest import FIRMWARE, GOLDEN, REPO, built_copy, fwharden

from fwharden.harden.report.json import verify_schema

BOARD = "mps2-an386"


@pytest.fixture(scope="module")
def build(tmp_path_factory: pytest.TempPathFactory) -> Path:
    elf = built_copy(FIRMWARE / "verify", tmp_path_factory.mktemp("golden") / "verify", BOARD)
    return elf.parent


@pytest.mark.parametrize("name", ["verify.json", "findings.sarif"])
def test_verify_output_matches_golden(build: Path, name: str, regen_golden: bool) -> None:
    text = (build / name).read_text()
    golden = GOLDEN / "verify" / f"{BOARD}.{name}"
    if regen_golden:
        golden.write_text(text)
    assert golden.exists(), f"missing {golden}; run pytest with --regen-golden"
    assert text == golden.read_text(), f"{name} differs from {golden}"
    # Nothing machine-specific leaks into an artifact CI keeps.
    assert str(build.parent) not in text and "/tmp/" not in text


def test_real_verify_json_follows_the_shipped_schema(build: Path) -> None:
    document = json.loads((build / "verify.json").read_text())
    jsonschema.Draft202012Validator(verify_schema()).validate(document)
    assert {f["rule"] for f in document["findings"]} >= {"heap", "stdio", "indirect-call",
                                                         "recursion"}


def _readme_example() -> str:
    readme = (REPO / "README.md").read_text()
    section = readme[readme.index("### Python API"):]
    match = re.search(r"```python\n(.*?)```", section, re.S)
    assert match, "README's Python API section has no python code block"
    return match.group(1)


def test_readme_python_api_example_runs(build: Path) -> None:
    code = _readme_example()
    assert len(code.strip().splitlines()) == 3
    out = io.StringIO()
    cwd = os.getcwd()
    os.chdir(build.parent.parent)      # the example names build/<board>/firmware.elf
    try:
        with contextlib.redirect_stdout(out):
            exec(compile(code, "README.md", "exec"), {})
    finally:
        os.chdir(cwd)
    verdict, worst, count = _split(out.getvalue())
    document = json.loads((build / "verify.json").read_text())
    # The same firmware, the same answer as the build's own verify step.
    assert verdict == document["verdict"] == "fail"
    assert worst == "unbounded" and document["isr_stack"]["kind"] == "unbounded"
    # The example passes no [harden] settings (the build's firmware.toml lists indirect
    # targets, which open more paths): its count is the CLI's on the same ELF without one.
    cli = fwharden("verify", str(build / "firmware.elf"), "--board", BOARD, "--json",
                   str(build.parent / "readme-example.json"))
    assert cli.returncode in (0, 1), cli.stderr
    plain = json.loads((build.parent / "readme-example.json").read_text())
    assert int(count) == len(plain["findings"])


def _split(text: str) -> tuple[str, str, str]:
    verdict, rest = text.strip().split(" ", 1)
    worst, count = rest.rsplit(" ", 1)
    return verdict, worst, count
