"""Bytes the decoder cannot read in thread code (not only in handler code) leave the thread
stack's bound a minimum; the finding says so and names the function and the address."""

from __future__ import annotations

from synth import image

from fwharden.board_profiles.project import HardenPolicy
from fwharden.harden.analysis.verify import verify

# reset @ 0x100: bl odd; 1: b 1b
# odd   @ 0x106: push {r4, lr}; pop {r4, pc}; .word 0xffffffff (not an instruction)
# h     @ 0x10e: bx lr            (the only handler: it never reaches odd)
CODE = "00f001f8fee710b510bdffffffff7047"
SYMBOLS = {
    "reset": (0x101, 6, "STT_FUNC", "STB_GLOBAL"),
    "odd": (0x107, 8, "STT_FUNC", "STB_GLOBAL"),
    "h": (0x10F, 2, "STT_FUNC", "STB_GLOBAL"),
}


def test_undecodable_thread_code_is_a_finding_naming_function_and_address() -> None:
    img = image("arm", CODE, 0x100, SYMBOLS, vectors=[0x20001000, "reset", 0, "h"])
    result = verify(img, None, HardenPolicy(), {})
    assert result.thread_stack is not None and result.thread_stack.worst_case.kind == "at_least"
    found = [f for f in result.findings if f.rule == "undecodable"]
    assert len(found) == 1, found
    (finding,) = found
    assert finding.root == "reset" and finding.path == ("reset", "odd")
    assert finding.site == 0x10A and "odd" in finding.message and "0x0000010a" in finding.message
    assert finding.severity == "warning"   # as in handler code (findings.DEFAULT_SEVERITY)
