"""VerifyResult -> the `verify.json` document (JSON-ready data). A describer; never prints.

The document keeps the names CI scripts rely on: verdict, interrupts[vector, name, address,
stack{bytes, kind}], findings[rule, severity, root, path, callee, site, file, line],
isr_stack{size, worst_case, margin}. Its JSON Schema ships beside this module as
`verify.schema.json` (a test validates real output against it).
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

from fwharden import __version__
from fwharden.harden.analysis.stacks import StackCheck
from fwharden.harden.analysis.verify import VerifyResult

SCHEMA_ID = "https://fwharden.dev/schemas/verify-1.json"
SCHEMA_VERSION = 1


def _stack(check: StackCheck | None) -> dict[str, Any] | None:
    if check is None:
        return None
    return {"size": check.size, "worst_case": check.worst_case.bytes,
            "kind": check.worst_case.kind, "margin": check.margin,
            "levels": [{"level": level.label, "handler": level.handler.bytes,
                        "handler_kind": level.handler.kind,
                        "hardware_frame": level.hardware_frame} for level in check.levels]}


def to_json(result: VerifyResult) -> dict[str, Any]:
    """The verify.json document for `result`, as data (`json_text` makes the file)."""
    return {
        "schema": {"id": SCHEMA_ID, "version": SCHEMA_VERSION},
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
             "priority": None if i.priority is None else {
                 "level": i.priority.level, "origin": i.priority.origin,
                 "site": i.priority.site, "scheme": i.priority.scheme,
                 "note": i.priority.note},
             "deepest_path": [{"function": step.function, "frame": step.frame}
                              for step in i.deepest]}
            for i in result.interrupts
        ],
        "findings": [
            {"rule": f.rule, "severity": f.severity, "title": f.title, "reason": f.reason,
             "root": f.root, "path": list(f.path), "callee": f.callee, "site": f.site,
             "file": f.file, "line": f.line, "message": f.message, "via": f.via,
             **({"cycle": list(f.cycle)} if f.cycle else {})}
            for f in result.findings
        ],
        "notes": list(result.notes),
        "indirect_calls": [{"site": c.site, "function": c.function, "targets": list(c.targets),
                            "how": c.how, "automatic": c.automatic}
                           for c in result.indirect_calls],
        "isr_stack": _stack(result.isr_stack),
        "thread_stack": _stack(result.thread_stack),
        "other_stacks": [{**_stack(check), "name": check.name} for check in result.other_stacks],
        "analysed": {"functions": result.functions_analysed,
                     "instructions": result.instructions},
    }


def json_text(document: dict[str, Any]) -> str:
    """The file text: sorted keys, two-space indent, one final newline (reproducible)."""
    return json.dumps(document, indent=2, sort_keys=True) + "\n"


def verify_schema() -> dict[str, Any]:
    """The JSON Schema of verify.json that ships with fwharden."""
    text = resources.files("fwharden.harden.report").joinpath("verify.schema.json").read_text()
    return json.loads(text)
