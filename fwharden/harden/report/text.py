"""VerifyResult -> JSON data, readable text and SARIF 2.1.0. Describers only; never print.

The JSON keeps the names CI scripts rely on: verdict, interrupts[vector, name, address,
stack{bytes, kind}], findings[rule, severity, root, path, callee, site, file, line],
isr_stack{size, worst_case, margin}.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from fwharden import __version__
from fwharden.harden.analysis.verify import RULE_TEXT, StackCheck, VerifyResult
from fwharden.harden.elf.lines import LineTable
from fwharden.harden.report.locations import Project, physical_location

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
_LEVEL = {"error": "error", "warning": "warning", "note": "note"}


def with_locations(result: VerifyResult, lines: LineTable) -> VerifyResult:
    """The result with file:line filled in for every finding that has a call site."""
    located = []
    for finding in result.findings:
        where = lines.lookup(finding.site) if finding.site is not None else None
        located.append(dataclasses.replace(finding, file=where[0], line=where[1])
                       if where else finding)
    return dataclasses.replace(result, findings=located)


def _stack(check: StackCheck | None) -> dict[str, Any] | None:
    if check is None:
        return None
    return {"size": check.size, "worst_case": check.worst_case.bytes,
            "kind": check.worst_case.kind, "margin": check.margin,
            "levels": [{"level": label, "handler": bound.bytes, "handler_kind": bound.kind,
                        "hardware_frame": frame} for label, bound, frame in check.levels]}


def result_to_dict(result: VerifyResult) -> dict[str, Any]:
    return {
        "tool": {"name": "fwharden", "version": __version__},
        "elf": result.elf,
        "board": result.board,
        "verdict": result.verdict,
        "vector_table": {"kind": result.table.kind, "address": result.table.address,
                         "entries": result.table.entries, "source": result.table.source},
        "interrupts": [
            {"vector": i.vectors[0], "vectors": list(i.vectors), "labels": list(i.labels),
             "name": i.name, "aliases": list(i.aliases), "address": i.address, "kind": i.kind,
             "stack": {"bytes": i.stack.bytes, "kind": i.stack.kind},
             "deepest_path": [{"function": name, "frame": frame} for name, frame in i.deepest]}
            for i in result.interrupts
        ],
        "findings": [
            {"rule": f.rule, "severity": f.severity, "title": f.title, "reason": f.reason,
             "root": f.root, "path": list(f.path), "callee": f.callee, "site": f.site,
             "file": f.file, "line": f.line, "message": f.message, "via": f.via or None,
             **({"cycle": list(f.cycle)} if f.cycle else {})}
            for f in result.findings
        ],
        "notes": list(result.notes),
        "isr_stack": _stack(result.isr_stack),
        "thread_stack": _stack(result.thread_stack),
        "other_stacks": [_stack(check) | {"name": check.name} for check in result.other_stacks],
        "analysed": {"functions": result.functions_analysed,
                     "instructions": result.instructions},
    }


def describe_report(result: VerifyResult) -> str:
    """The text report: interrupts with bounds, findings with call chains, stack margins."""
    lines = [f"fwharden verify {result.elf}" + (f" (board {result.board})" if result.board else ""),
             f"vector table: {result.table.source}, {result.table.entries} entries, "
             f"{len(result.interrupts)} interrupt roots",
             ""]
    lines += [f"note: {note}" for note in result.notes] + ([""] if result.notes else [])
    lines.append(f"{'vector':<14} {'handler':<34} {'stack':>10}  deepest path")
    for item in result.interrupts:
        label = item.labels[0] + (f" +{len(item.labels) - 1}" if len(item.labels) > 1 else "")
        path = " > ".join(f"{name}({frame})" for name, frame in item.deepest)
        lines.append(f"{label:<14} {item.name:<34} {item.stack.describe():>10}  {path}")
    lines.append("")
    for check in (result.isr_stack, result.thread_stack, *result.other_stacks):
        if check is None:
            continue
        size = f"{check.size} B" if check.size is not None else "unknown size"
        margin = f", margin {check.margin} B" if check.margin is not None else ""
        lines.append(f"{check.name}: worst case {check.worst_case.describe()} of {size}{margin}")
        for label, bound, frame in check.levels:
            lines.append(f"    {label}: {bound.describe()} + {frame} B exception frame")
    lines.append("")
    if not result.findings:
        lines.append("no findings")
    for finding in result.findings:
        where = f" ({finding.file}:{finding.line})" if finding.file else ""
        site = f" at 0x{finding.site:08x}" if finding.site is not None else ""
        lines.append(f"{finding.severity.upper()} [{finding.rule}] {finding.message}{site}{where}")
        if finding.path:
            lines.append(f"    path: {' -> '.join(finding.path)}")
        lines.append(f"    why: {finding.reason}")
    errors = sum(f.severity == "error" for f in result.findings)
    warnings = sum(f.severity == "warning" for f in result.findings)
    lines += ["", f"verdict: {result.verdict.upper()} ({errors} errors, {warnings} warnings; "
              f"{result.functions_analysed} functions, {result.instructions} instructions "
              "analysed)"]
    return "\n".join(lines) + "\n"


def result_to_sarif(result: VerifyResult, project: Project | None = None) -> dict[str, Any]:
    """SARIF 2.1.0 as GitHub code scanning reads it: one run, rules with help text, results
    with a physical location always (locations.py: GitHub rejects the whole upload when one
    result lacks it) and a logical one (the function)."""
    from pathlib import Path
    project = project or Project(root=Path.cwd(), elf=Path(result.elf))
    rules: dict[str, dict[str, Any]] = {}
    results = []
    for finding in result.findings:
        if finding.rule not in rules:
            title = RULE_TEXT.get(finding.rule, (finding.title, finding.reason))[0]
            rules[finding.rule] = {
                "id": finding.rule,
                "name": "".join(part.capitalize() for part in finding.rule.split("-")),
                "shortDescription": {"text": title},
                "fullDescription": {"text": finding.reason},
                "help": {"text": finding.reason},
                "defaultConfiguration": {"level": _LEVEL.get(finding.severity, "warning")},
            }
        location: dict[str, Any] = {
            "logicalLocations": [{"name": finding.path[-1] if finding.path else finding.root,
                                  "kind": "function"}],
        }
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
                "fwharden/v1": f"{finding.rule}:{finding.root}:{finding.callee}:"
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
