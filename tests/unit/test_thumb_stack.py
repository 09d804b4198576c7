"""Issue 11 item 5 (Thumb): frames decoded from the binary are never under-stated.

Expected frames are counted by hand from ARM DDI 0403E (each register 4 bytes, each D
register 8), not taken from fwharden's output.
"""

from __future__ import annotations

from synth import image

from fwharden.board_profiles.project import HardenPolicy
from fwharden.harden.analysis.verify import verify
from fwharden.harden.isa.thumb import decode_arm

# forms @ 0x200:
#   push    {r4-r7, lr}          20
#   stmdb   sp!, {r8-r11}        16
#   str     lr, [sp, #-4]!        4
#   strd    r0, r1, [sp, #-8]!    8
#   str.w   r2, [sp, #-16]!      16
#   vpush   {d8-d9}              16
#   vstmdb  sp!, {s0-s3}         16
#   sub     sp, #8                8
#   sub.w   sp, sp, #256        256
#   subw    sp, sp, #0x404     1028   = 1388 at the call
#   bl      leaf
#   (the releases in reverse: addw/add.w/add sp, vldmia/vpop, ldr.w [sp],#16,
#    ldrd [sp],#8, ldr lr,[sp],#4, ldmia.w sp!, pop {.., pc})
# condpop @ 0x24c:
#   push    {r4, r5, r6, lr}     16
#   cmp     r0, #0
#   it      eq
#   popeq   {r4, r5, r6, pc}     only on the path that returns
#   sub     sp, #64              16 + 64 = 80 at the call
#   bl      leaf
#   add     sp, #64
#   pop     {r4, r5, r6, pc}
# leaf @ 0x25e: bx lr
STACK_CODE = (
    "f0b52de9000f4df804ed6de902014df8102d2ded048b2ded040a82b0adf5807d"
    "adf2044d00f01bf80df2044d0df5807d02b0bdec040abdec048b5df8102bfde8"
    "02015df804ebbde8000ff0bd70b5002808bf70bd90b000f002f810b070bd7047")
STACK_SYMBOLS = {
    "forms": (0x201, 76, "STT_FUNC", "STB_GLOBAL"),
    "condpop": (0x24d, 18, "STT_FUNC", "STB_GLOBAL"),
    "leaf": (0x25f, 2, "STT_FUNC", "STB_GLOBAL"),
}


def _decoded(img, name):
    return decode_arm(img, img.function_named(name))


def test_every_sp_lowering_form_is_counted() -> None:
    img = image("arm", STACK_CODE, 0x200, STACK_SYMBOLS)
    forms = _decoded(img, "forms")
    assert forms.frame == 20 + 16 + 4 + 8 + 16 + 16 + 16 + 8 + 256 + 1028
    assert [c.live_frame for c in forms.calls] == [1388]
    assert not forms.frame_dynamic and not forms.unknown


def test_conditional_pop_does_not_lower_the_continuing_path() -> None:
    img = image("arm", STACK_CODE, 0x200, STACK_SYMBOLS)
    condpop = _decoded(img, "condpop")
    assert condpop.frame == 80
    assert [c.live_frame for c in condpop.calls] == [80]


# fault @ 0x100 (a fault handler that moves to its own stack):
#   ldr   r0, 1f               @ 1: .word 0x20000100 (top of fault_stack, 256 bytes)
#   msr   msp, r0
#   bl    deep
#   b     .
# deep @ 0x110: push {r4-r7, lr}; sub sp, #40; add sp, #40; pop {r4-r7, pc}   (60 B)
# reset @ 0x118: b reset
SWITCH_CODE = "024880f3088800f003f8fee700010020f0b58ab00ab0f0bdfee700bf"
SWITCH_SYMBOLS = {
    "fault": (0x101, 16, "STT_FUNC", "STB_GLOBAL"),
    "deep": (0x111, 8, "STT_FUNC", "STB_GLOBAL"),
    "reset": (0x119, 2, "STT_FUNC", "STB_GLOBAL"),
    "fault_stack": (0x20000000, 256, "STT_OBJECT", "STB_GLOBAL"),
}
SWITCH_MAPPING = [(0x100, "t"), (0x10c, "d"), (0x110, "t")]


def _switch_image(stack_size: int):
    return image("arm", SWITCH_CODE, 0x100, {**SWITCH_SYMBOLS, "fault_stack": (
        0x20000100 - stack_size, stack_size, "STT_OBJECT", "STB_GLOBAL")},
        vectors=[0x20001000, "reset", 0, "fault"], mapping=SWITCH_MAPPING,
        data={".bss": (0x20000000, bytes(0x100), True)})


def test_msr_msp_from_a_constant_is_a_switch_to_that_stack() -> None:
    decoded = _decoded(_switch_image(256), "fault")
    assert decoded.switches == ((0x102, 0x20000100),)
    assert [c.other_stack for c in decoded.calls] == [True]


def test_fault_stack_is_bounded_on_its_own_stack_and_checked_against_its_size() -> None:
    fits = verify(_switch_image(256), None, HardenPolicy(), {})
    (stack,) = fits.other_stacks
    assert stack.size == 256 and stack.worst_case.bytes == 60
    assert stack.worst_case.kind == "exact"
    assert not [f for f in fits.findings if "fault_stack" in f.message]
    small = verify(_switch_image(48), None, HardenPolicy(), {})
    overflow = [f for f in small.findings if "fault_stack" in f.message]
    assert overflow and overflow[0].severity == "error"
    assert "exceeds the 48 B" in overflow[0].message
