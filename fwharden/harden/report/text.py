"""VerifyResult -> the readable text report (`report.txt`, and what `fwharden verify` prints).

A describer only: never prints. The words for each rule come with the findings (from
`analysis.findings` and `analysis.rules`), so text, JSON and SARIF say the same thing.
"""

from __future__ import annotations

from fwharden.harden.analysis.verify import VerifyResult


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
        path = " > ".join(f"{step.function}({step.frame})" for step in item.deepest)
        lines.append(f"{label:<14} {item.name:<34} {item.stack.describe():>10}  {path}")
    lines.append("")
    for check in (result.isr_stack, result.thread_stack, *result.other_stacks):
        if check is None:
            continue
        size = f"{check.size} B" if check.size is not None else "unknown size"
        margin = f", margin {check.margin} B" if check.margin is not None else ""
        lines.append(f"{check.name}: worst case {check.worst_case.describe()} of {size}{margin}")
        for level in check.levels:
            lines.append(f"    {level.label}: {level.handler.describe()} + "
                         f"{level.hardware_frame} B exception frame")
    known = [i for i in result.interrupts if i.priority is not None]
    if known:
        # Where each preemption priority came from (analysis/priorities.py).
        lines.append("preemption priorities (equal ones never nest):")
        lines += [f"    {i.name}: {i.priority.describe()}" for i in known]
    lines.append("")
    automatic = [c for c in result.indirect_calls if c.automatic]
    if automatic:
        lines.append(f"indirect calls resolved: {len(automatic)}")
        for call in automatic:
            shown = ", ".join(call.targets[:6]) + (f", +{len(call.targets) - 6} more"
                                                   if len(call.targets) > 6 else "")
            lines.append(f"    0x{call.site:08x} in {call.function} -> "
                         f"{shown or 'nothing'} ({call.how})")
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
