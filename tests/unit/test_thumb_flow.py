"""Issue 11 item 4: control flow the Thumb decoder must follow (ARM DDI 0403E A7.7.43)."""

from __future__ import annotations

from synth import image

from fwharden.board_profiles.project import HardenPolicy
from fwharden.harden.analysis.verify import verify
from fwharden.harden.isa.thumb import decode_arm

# ramfunc @ 0x100 (code in ITCM calling flash): push {r4, lr}; bl __flash_fn_veneer; pop {r4, pc}
# __flash_fn_veneer @ 0x108 (GNU ld's long-branch stub):  ldr.w pc, [pc, #-0]; .word flash_fn
# disp @ 0x110:
#     cmp r0, #2;  bhi 9f;  adr r1, 8f;  ldr pc, [r1, r0, lsl #2]
#  8: .word fa, fb, 7f + 1            (two functions and a case inside disp)
#  7: movs r0, #1
#  9: bx lr
# itsel @ 0x12c:
#     ldr r3, =fa;  cmp r0, #0;  it eq;  ldreq r3, =fb;  bx r3
# weird @ 0x140: add pc, r0
# fa @ 0x142: bx lr
# fb @ 0x144: b.w flash_fn
# flash_fn @ 0x148: b.w malloc
# malloc @ 0x14c: bx lr
# reset @ 0x14e: b reset
CODE = ("10b500f001f810bddff800f04901000002280ad801a151f820f000bf43010000"
        "450100002901000001207047024b002808bf024b184700bf4301000045010000"
        "8744704700f000b800f000b87047fee7")
SYMBOLS = {
    "ramfunc": (0x101, 8, "STT_FUNC", "STB_GLOBAL"),
    "__flash_fn_veneer": (0x109, 8, "STT_FUNC", "STB_LOCAL"),
    "disp": (0x111, 28, "STT_FUNC", "STB_GLOBAL"),
    "itsel": (0x12d, 20, "STT_FUNC", "STB_GLOBAL"),
    "weird": (0x141, 2, "STT_FUNC", "STB_GLOBAL"),
    "fa": (0x143, 2, "STT_FUNC", "STB_GLOBAL"),
    "fb": (0x145, 4, "STT_FUNC", "STB_GLOBAL"),
    "flash_fn": (0x149, 4, "STT_FUNC", "STB_GLOBAL"),
    "malloc": (0x14d, 2, "STT_FUNC", "STB_GLOBAL"),
    "reset": (0x14f, 2, "STT_FUNC", "STB_GLOBAL"),
}
MAPPING = [(0x100, "t"), (0x10c, "d"), (0x110, "t"), (0x11c, "d"), (0x128, "t"),
           (0x138, "d"), (0x140, "t")]


def _image():
    return image("arm", CODE, 0x100, SYMBOLS, mapping=MAPPING,
                 vectors=[0x20001000, "reset", 0, "ramfunc", "disp", "itsel", "weird"])


def _decoded(name):
    img = _image()
    return decode_arm(img, img.function_named(name))


def test_long_branch_veneer_is_a_jump_to_its_literal() -> None:
    (site,) = _decoded("__flash_fn_veneer").calls
    assert (site.kind, site.targets) == ("tail", (0x148,))


def test_adr_dispatch_table_entries_are_followed() -> None:
    sites = _decoded("disp").calls
    assert [(s.kind, s.targets) for s in sites] == [("tail", (0x142, 0x144))]


def test_constant_loaded_under_it_joins_the_other_value() -> None:
    (site,) = _decoded("itsel").calls
    assert site.kind == "indirect-tail" and set(site.targets) == {0x142, 0x144}


def test_unclassified_pc_write_is_reported() -> None:
    decoded = _decoded("weird")
    assert [address for address, _ in decoded.unknown] == [0x140]


def test_every_path_reaches_malloc_through_veneer_table_and_it_block() -> None:
    result = verify(_image(), None, HardenPolicy(), {})
    paths = {f.root: f.path for f in result.findings if f.rule == "heap"}
    assert paths == {
        "ramfunc": ("ramfunc", "__flash_fn_veneer", "flash_fn", "malloc"),
        "disp": ("disp", "fb", "flash_fn", "malloc"),
        "itsel": ("itsel", "fb", "flash_fn", "malloc"),
    }
    assert any(f.rule == "undecodable" and f.root == "weird" for f in result.findings)


# h @ 0x100: b irq_common          (a branch to a local label with no .type)
# irq_common @ 0x102: push {r4, lr}; bl malloc; pop {r4, pc}
# malloc @ 0x10a: bx lr;  reset @ 0x10c: b reset
LABEL_CODE = "ffe710b500f001f810bd7047fee7"
LABEL_SYMBOLS = {
    "h": (0x101, 2, "STT_FUNC", "STB_GLOBAL"),
    "irq_common": (0x102, 0, "STT_NOTYPE", "STB_LOCAL"),
    "malloc": (0x10b, 2, "STT_FUNC", "STB_GLOBAL"),
    "reset": (0x10d, 2, "STT_FUNC", "STB_GLOBAL"),
}


def test_branch_to_an_untyped_local_label_is_followed() -> None:
    img = image("arm", LABEL_CODE, 0x100, LABEL_SYMBOLS, vectors=[0x20001000, "reset", 0, "h"])
    result = verify(img, None, HardenPolicy(), {})
    assert [f.path for f in result.findings if f.rule == "heap"] == [
        ("h", "irq_common", "malloc")]
    assert not [f for f in result.findings if f.rule == "unknown-target"]


# h @ 0x100 (.type function, no .size, as pico-sdk's _reset_handler): movs r0, #1
# cont @ 0x102 (a local label; h runs on into it): push {r4, lr}; bl malloc; pop {r4, pc}
# malloc @ 0x10a: bx lr;  reset @ 0x10c: b reset
FALL_CODE = "012010b500f001f810bd7047fee7"
FALL_SYMBOLS = {
    "h": (0x101, 0, "STT_FUNC", "STB_GLOBAL"),
    "cont": (0x102, 0, "STT_NOTYPE", "STB_LOCAL"),
    "malloc": (0x10b, 2, "STT_FUNC", "STB_GLOBAL"),
    "reset": (0x10d, 2, "STT_FUNC", "STB_GLOBAL"),
}


def test_code_that_runs_into_the_next_label_is_an_edge() -> None:
    img = image("arm", FALL_CODE, 0x100, FALL_SYMBOLS, vectors=[0x20001000, "reset", 0, "h"])
    (site,) = decode_arm(img, img.function_named("h")).calls
    assert (site.kind, site.targets) == ("tail", (0x102,))
    result = verify(img, None, HardenPolicy(), {})
    assert [f.path for f in result.findings if f.rule == "heap"] == [("h", "cont", "malloc")]
    # Functions that end in a branch, a return or a call do not run on.
    assert [s.how for s in decode_arm(img, img.function_named("cont")).calls] == [""]
