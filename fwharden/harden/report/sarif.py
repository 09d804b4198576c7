"""VerifyResult -> SARIF 2.1.0 as GitHub code scanning reads it. A describer; never prints.

One run; one rule per rule id with the catalogue's title and reason (`analysis.findings`
for the analysis's own rules, `analysis.rules` for forbidden calls, carried on each
finding); results with a physical location always (see locations.py) and a logical one
(the function, or the ELF for a whole-firmware finding). The fingerprint is stable
across builds: rule, root, callee, path.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from fwharden import __version__
from fwharden.harden.analysis.verify import VerifyResult
from fwharden.harden.report.locations import Project, physical_location

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
_LEVEL = {"error": "error", "warning": "warning", "note": "note"}


def to_sarif(result: VerifyResult, project: Project | None = None) -> dict[str, Any]:
    """The SARIF log for `result`, as data (`sarif_text` makes the file). Every result has
    a physical location (locations.py: GitHub rejects the whole upload when one lacks it),
    relative to `project` (default: the current directory and the result's ELF)."""
    project = project or Project(root=Path.cwd(), elf=Path(result.elf))
    rules: dict[str, dict[str, Any]] = {}
    results = []
    for finding in result.findings:
        if finding.rule not in rules:
            rules[finding.rule] = {
                "id": finding.rule,
                "name": "".join(part.capitalize() for part in finding.rule.split("-")),
                "shortDescription": {"text": finding.title},
                "fullDescription": {"text": finding.reason},
                "help": {"text": finding.reason},
                "defaultConfiguration": {"level": _LEVEL.get(finding.severity, "warning")},
            }
        function = finding.path[-1] if finding.path else finding.root
        # A whole-firmware finding (a stack check, the configuration) belongs to the ELF.
        logical = ({"name": function, "kind": "function"} if function
                   else {"name": Path(result.elf).name, "kind": "module"})
        location: dict[str, Any] = {"logicalLocations": [logical]}
        location["physicalLocation"] = physical_location(finding, project)
        if finding.site is not None:
            location.setdefault("properties", {})["address"] = f"0x{finding.site:08x}"
        message = finding.message
        if finding.path:
            message += f" (path: {' -> '.join(finding.path)})"
        results.append({
            "ruleId": finding.rule,
            "ruleIndex": list(rules).index(finding.rule),
            "level": _LEVEL.get(finding.severity, "warning"),
            "message": {"text": message},
            "locations": [location],
            "partialFingerprints": {
                "fwharden/v1": f"{finding.rule}:{finding.root or ''}:{finding.callee or ''}:"
                               f"{'>'.join(finding.path)}"},
        })
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "fwharden", "version": __version__,
                                "rules": list(rules.values())}},
            "artifacts": [],
            "results": results,
        }],
    }


def sarif_text(log: dict[str, Any]) -> str:
    return json.dumps(log, indent=2) + "\n"
