"""VerifyResult -> SARIF 2.1.0 as GitHub code scanning reads it. A describer; never prints.

One run; one rule per rule id with the catalogue's title and reason (`analysis.findings`
for the analysis's own rules, `analysis.rules` for forbidden calls, carried on each
finding); results with a physical location always (see locations.py) and a logical one
(the function, or the ELF for a whole-firmware finding). The fingerprint is stable
across builds: rule, root, callee, path.

One result per finding, so every root that reaches a forbidden call has its own (issue 11
item 1); the results of one rule at one site reached from several roots point at each
other with `relatedLocations` (SARIF 2.1.0 3.27.22), so a reader of one sees the others.
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
    groups: dict[tuple[str, str | None, int | None], list[int]] = {}
    for index, finding in enumerate(result.findings):
        if finding.root is not None and (finding.site is not None or finding.callee):
            groups.setdefault((finding.rule, finding.callee, finding.site), []).append(index)
    for index, finding in enumerate(result.findings):
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
        entry: dict[str, Any] = {
            "ruleId": finding.rule,
            "ruleIndex": list(rules).index(finding.rule),
            "level": _LEVEL.get(finding.severity, "warning"),
            "message": {"text": message},
            "locations": [location],
            "partialFingerprints": {
                "fwharden/v1": f"{finding.rule}:{finding.root or ''}:{finding.callee or ''}:"
                               f"{'>'.join(finding.path)}"},
        }
        related = _related(result, project, groups.get(
            (finding.rule, finding.callee, finding.site), []), index)
        if related:
            entry["relatedLocations"] = related
        results.append(entry)
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


def _related(result: VerifyResult, project: Project, group: list[int],
             index: int) -> list[dict[str, Any]]:
    """The other roots' results of the same rule and site, as related locations: each at
    its own physical location, named by its root, with its path."""
    related = []
    roots = {result.findings[i].root for i in group}
    if len(roots) < 2:
        return []
    for other in group:
        if other == index or result.findings[other].root == result.findings[index].root:
            continue
        finding = result.findings[other]
        related.append({
            "id": len(related) + 1,
            "message": {"text": f"the same {finding.rule} finding from root {finding.root}"
                                f" (path: {' -> '.join(finding.path)})"},
            "physicalLocation": physical_location(finding, project),
            "logicalLocations": [{"name": finding.root, "kind": "function"}],
        })
    return related


def sarif_text(log: dict[str, Any]) -> str:
    return json.dumps(log, indent=2) + "\n"
