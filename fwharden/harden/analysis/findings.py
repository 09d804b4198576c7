"""What the verifier reports: the `Finding` type and the catalogue of the analysis's own rules.

The forbidden-call rules (heap, stdio, RTOS, Go runtime, project rules) carry their title
and reason in `rules.py`; the rules the analysis itself raises (an indirect call it cannot
resolve, recursion, a stack that does not fit, ...) are described here, once, so the text
report, SARIF and JSON all take the same words from one table.
"""

from __future__ import annotations

from dataclasses import dataclass

from fwharden.harden.analysis.policy import Severity
from fwharden.harden.isa.model import CallKind

# rule id -> (title, reason the report shows)
RULE_TEXT: dict[str, tuple[str, str]] = {
    "indirect-call": ("unresolved indirect call",
                      "the verifier cannot see where this call goes, so it cannot prove the "
                      "handler safe; list the possible targets in [harden.indirect]"),
    "recursion": ("recursion", "a recursive call chain has no static stack bound"),
    "isr-stack-overflow": ("interrupt stack overflow",
                           "the worst case with nesting does not fit the interrupt stack the "
                           "linker script reserved"),
    "thread-stack-overflow": ("thread stack overflow",
                              "main's worst case plus one exception frame does not fit the "
                              "thread stack"),
    "stack-unproven": ("stack bound not proven",
                       "part of the call chain has no static frame size, so the bound is only "
                       "a minimum"),
    "dynamic-stack": ("dynamic stack frame",
                      "the function moves SP by a run-time amount (alloca, VLA); its frame "
                      "is only a minimum"),
    "undecodable": ("instruction not decoded",
                    "bytes inside a function were not decoded as instructions; calls there "
                    "are not seen"),
    "unknown-target": ("call into unknown code",
                       "the call target is not inside any function of the symbol table"),
    "config": ("configuration does not match the ELF", "fix firmware.toml [harden]"),
    "roots": ("interrupt roots not found",
              "the verifier could not find the vector table or trap entry, so it cannot tell "
              "what runs in interrupt context; nothing is proven"),
    "vector-moved": ("vector table moved at run time",
                     "the code installs a vector table or trap entry at an address the "
                     "verifier cannot follow, so the handlers it holds are not checked"),
    "unused-setting": ("firmware.toml setting matches nothing",
                       "a [harden] key names nothing the verifier met in this ELF"),
    "allowed": ("allowed by firmware.toml", "[harden.allow] accepts this function in "
                "interrupts; what it calls is not judged"),
    # isa_check.py: the build against the board's core.
    "isa-mismatch": ("code built for another core",
                     "the ELF uses instructions or a build target the board's core does not "
                     "have (double precision on a single-precision FPU, DSP on a Cortex-M3, "
                     "AMO/LR/SC without the RISC-V A extension, ...): the core faults "
                     "(UsageFault / illegal-instruction exception) when it reaches them"),
    "abi-soft-float": ("soft-float helpers on a core with an FPU",
                       "floating-point operations the FPU does in one instruction go through "
                       "software helpers (about ten times slower); build with the board's "
                       "-mfpu/-mfloat-abi or -march/-mabi"),
    # races.py: shared variables an interrupt can tear.
    "isr-data-race": ("data race with an interrupt",
                      "an interrupt that writes this variable can run between the accesses "
                      "of an update outside a critical section, so one of the writes is lost "
                      "or a torn value is read; fix: a critical section (cpsid i/cpsie i, "
                      "PRIMASK save/restore, BASEPRI at or above the handler's priority, "
                      "csrc mstatus, MIE), an atomic operation, or the hand-off primitives "
                      "fwh_flag_set/fwh_flag_take and fwh_ring_push/fwh_ring_pop "
                      "(fwh_handoff.h)"),
    "shared": ("shared variable accepted by firmware.toml",
               "[harden.shared] states how the project protects this variable; the binary "
               "does not show it, so the race rule does not judge it"),
    "library-model": ("bound from a library model or firmware.toml",
                      "this number is a stated fact (a model file or [harden.recursion]), "
                      "not one the verifier proved from the binary"),
}
DEFAULT_SEVERITY: dict[str, Severity] = {
    "indirect-call": "error", "recursion": "error", "isr-stack-overflow": "error",
    "thread-stack-overflow": "error", "stack-unproven": "warning", "dynamic-stack": "warning",
    "undecodable": "warning", "unknown-target": "warning", "config": "error", "roots": "error",
    "vector-moved": "error", "unused-setting": "warning", "library-model": "note",
    "allowed": "note", "isa-mismatch": "error", "abi-soft-float": "warning",
    "isr-data-race": "error", "shared": "note"}
SEVERITY_ORDER: dict[str, int] = {"error": 0, "warning": 1, "note": 2}


@dataclass(frozen=True)
class Finding:
    """One thing the verifier could not prove safe, with the chain that leads to it.

    root is the handler the chain starts at, None for a whole-firmware finding (a stack
    check, a configuration error); callee is the function reached, None when the call has
    no known target (an unresolved indirect call: `via` says how the call is made).
    """

    rule: str
    severity: Severity
    title: str
    reason: str
    root: str | None
    path: tuple[str, ...]          # function names from the handler to the callee
    callee: str | None
    site: int | None
    message: str
    file: str | None = None
    line: int | None = None
    cycle: tuple[str, ...] = ()
    via: CallKind | None = None    # how the last call is made


def make_finding(rule: str, severity: dict[str, Severity], message: str, *,
                 root: str | None = None, path: tuple[str, ...] = (),
                 callee: str | None = None, site: int | None = None,
                 cycle: tuple[str, ...] = (), via: CallKind | None = None) -> Finding:
    """A finding of one of the analysis's own rules, with the catalogue's title and reason
    and the severity the project chose (or the rule's default)."""
    title, reason = RULE_TEXT.get(rule, (rule, ""))
    return Finding(rule=rule, severity=severity.get(rule, DEFAULT_SEVERITY.get(rule, "error")),
                   title=title, reason=reason, root=root, path=path, callee=callee,
                   site=site, message=message, cycle=cycle, via=via)


def sort_key(finding: Finding) -> tuple[int, str, str, int]:
    """Errors first, then by rule, root and address: the report's stable order."""
    return (SEVERITY_ORDER.get(finding.severity, 3), finding.rule, finding.root or "",
            finding.site or 0)
