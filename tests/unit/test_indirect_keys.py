"""Issue 12 item 6 (the annotation side): a [harden.indirect] key naming a handler covers
every indirect call reachable from it, a key that matches nothing is a warning, and an
unresolved call prints a snippet with the address-taken candidates.

Assembled with arm-none-eabi-as -mcpu=cortex-m4 -mthumb, ld -Ttext 0x100 (objdump):
  handler @ 0x100: push {r3, lr}; bl helper; pop {r3, pc}
  helper  @ 0x108: push {r3, lr}; ldr r3, [r0, #0]; blx r3; pop {r3, pc}
  target  @ 0x110: b.w malloc
  malloc  @ 0x114: bx lr
  reset   @ 0x116: b.w reset
.rodata @ 0x200 holds the word 0x111 (target | Thumb bit): target is address-taken.
"""

from __future__ import annotations

from synth import image

from fwharden.board_profiles.project import HardenPolicy
from fwharden.harden.analysis.verify import verify

CODE = "08b500f001f808bd08b50368984708bd00f000b87047fff7febf"
SYMBOLS = {"handler": (0x101, 8, "STT_FUNC", "STB_GLOBAL"),
           "helper": (0x109, 8, "STT_FUNC", "STB_GLOBAL"),
           "target": (0x111, 4, "STT_FUNC", "STB_GLOBAL"),
           "malloc": (0x115, 2, "STT_FUNC", "STB_GLOBAL"),
           "reset": (0x117, 4, "STT_FUNC", "STB_GLOBAL")}


def _verify(indirect: tuple = ()):
    img = image("arm", CODE, 0x100, SYMBOLS, vectors=[0x20001000, "reset", 0, "handler"],
                data={".rodata": (0x200, (0x111).to_bytes(4, "little"), False)})
    return verify(img, None, HardenPolicy(indirect=indirect), {})


def test_unresolved_call_prints_a_snippet_with_candidates() -> None:
    result = _verify()
    (finding,) = [f for f in result.findings if f.rule == "indirect-call"]
    assert '[harden.indirect] "0x0000010c" = ["target"]' in finding.message
    assert finding.path == ("handler", "helper")


def test_a_handler_key_covers_calls_below_the_handler() -> None:
    result = _verify(indirect=(("handler", ("target",)),))
    assert not [f for f in result.findings if f.rule == "indirect-call"]
    (heap,) = [f for f in result.findings if f.rule == "heap"]
    assert heap.path == ("handler", "helper", "target", "malloc")
    assert not [f for f in result.findings if f.rule == "unused-setting"]


def test_a_key_that_matches_nothing_is_a_warning() -> None:
    result = _verify(indirect=(("helper", ("target",)), ("0x08000000", ("target",)),
                               ("no_such_function", ("target",))))
    unused = [f for f in result.findings if f.rule == "unused-setting"]
    assert {f.severity for f in unused} == {"warning"}
    assert len(unused) == 2
    assert any("0x08000000" in f.message for f in unused)
    assert any("no_such_function" in f.message for f in unused)
