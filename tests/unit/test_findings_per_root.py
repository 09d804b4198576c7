"""Issue 11 item 1: every root that reaches a forbidden call has its own finding and path."""

from __future__ import annotations

from synth import image

from fwharden.board_profiles.project import HardenPolicy
from fwharden.harden.analysis.verify import verify

# h0:     b.w   shared          @ 0x100  (a tail call)
# h1:     push  {r4, lr}        @ 0x104
#         bl    shared
#         pop   {r4, pc}
# h2:     push  {r3, lr}        @ 0x10c
#         bl    shared
#         pop   {r3, pc}
# shared: push  {r3, lr}        @ 0x114  (the shared error handler)
#         bl    malloc
#         pop   {r3, pc}
# malloc: bx    lr              @ 0x11c
# reset:  b     reset           @ 0x11e
CODE = ("00f008b810b500f005f810bd08b500f001f808bd08b500f001f808bd7047fee7")
SYMBOLS = {
    "h0": (0x101, 4, "STT_FUNC", "STB_GLOBAL"),
    "h1": (0x105, 8, "STT_FUNC", "STB_GLOBAL"),
    "h2": (0x10d, 8, "STT_FUNC", "STB_GLOBAL"),
    "shared": (0x115, 8, "STT_FUNC", "STB_GLOBAL"),
    "malloc": (0x11d, 2, "STT_FUNC", "STB_GLOBAL"),
    "reset": (0x11f, 2, "STT_FUNC", "STB_GLOBAL"),
}


def test_three_roots_through_one_shared_function_are_three_findings() -> None:
    img = image("arm", CODE, 0x100, SYMBOLS,
                vectors=[0x20001000, "reset", "h0", "h1", "h2"])
    result = verify(img, None, HardenPolicy(), {})
    heap = [f for f in result.findings if f.rule == "heap"]
    assert sorted((f.root, f.path) for f in heap) == [
        ("h0", ("h0", "shared", "malloc")),
        ("h1", ("h1", "shared", "malloc")),
        ("h2", ("h2", "shared", "malloc")),
    ]
    # The same call site in all three: one site, three roots.
    assert {f.site for f in heap} == {0x116}
    assert result.verdict == "fail"
