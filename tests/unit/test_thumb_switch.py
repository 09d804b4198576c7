"""ARMv6-M switches as LLVM lowers them (no TBB/TBH on v6-M: ARMAsmPrinter's tTBB_JT/
tTBH_JT and the address table of tBR_JTr), as TinyGo's rp2040/nRF51 code has them: each
case is followed inside the function, not left as an unclassified `add pc` or an
indirect tail call with no targets."""

from __future__ import annotations

from synth import image

from fwharden.harden.isa.thumb import decode_arm

# Hand-assembled (arm-none-eabi-as -mcpu=cortex-m0, linked at 0x100):
# bsw @ 0x100:  push {r4, lr}; cmp r0, #2; bls 1f; b 9f
#           1:  add r0, pc; ldrb r0, [r0, #4]; lsls r0, r0, #1; add pc, r0
#               .byte 1, 3, 7             (cases c0 0x114, c1 0x118, c2 0x120)
#    c0: movs r0, #1; pop {r4, pc}   c1: pop {r4}; pop {r1}; mov lr, r1; b fa
#    c2: bl fb   9: pop {r4, pc}
# hsw @ 0x126:  cmp r0, #1; bhi 9f; lsls r0, r0, #1; nop
#               add r0, pc; ldrh r0, [r0, #4]; lsls r0, r0, #1; add pc, r0
#               .hword 1, 2               (cases h0 0x13a: b fa, h1 0x13c: b fb)
# wsw @ 0x140:  cmp r0, #1; bhi 9f; lsls r0, r0, #2; adr r1, 8f; ldr r0, [r1, r0]; mov pc, r0
#           8:  .word w0 + 1, w1 + 1, 0x50000000   (a literal after the table)
#    w0 0x158: b fa   w1 0x15a: b fb   9: bx lr
# fa @ 0x15e, fb @ 0x160: bx lr
# rsw @ 0x162:  cmp r0, #1; bls 1f; b 9f
#           1:  adr r1, 8f; ldrb r0, [r1, r0]; lsls r0, r0, #1; add pc, r0
#               .word 0x20000000   8: .byte 2, 3   (the table after a literal)
#    r0c 0x176: b fa   r1c 0x178: b fb   9: bx lr
CODE = ("10b5022800d90de0784400794000874401030700012010bd10bc02bc8e461ee000f01ef810bd"
        "012809d84000c04678448088400087440100020010e010e0704701280bd8800001a108588746"
        "590100005b0100000000005001e001e0704770477047012800d908e002a1085c400087440000"
        "00200203f2e7f2e77047")
SYMBOLS = {
    "bsw": (0x101, 0x26, "STT_FUNC", "STB_GLOBAL"),
    "hsw": (0x127, 0x1a, "STT_FUNC", "STB_GLOBAL"),
    "wsw": (0x141, 0x1e, "STT_FUNC", "STB_GLOBAL"),
    "fa": (0x15f, 2, "STT_FUNC", "STB_GLOBAL"),
    "fb": (0x161, 2, "STT_FUNC", "STB_GLOBAL"),
    "rsw": (0x163, 0x1a, "STT_FUNC", "STB_GLOBAL"),
}
MAPPING = [(0x100, "t"), (0x110, "d"), (0x114, "t"), (0x136, "d"), (0x13a, "t"),
           (0x14c, "d"), (0x158, "t"), (0x170, "d"), (0x176, "t")]
FA, FB = 0x15E, 0x160


def _decoded(name: str, code: str = CODE):
    img = image("arm", code, 0x100, SYMBOLS, mapping=MAPPING)
    return decode_arm(img, img.function_named(name))


def test_byte_table_cases_are_followed() -> None:
    decoded = _decoded("bsw")
    assert decoded.unknown == ()
    assert [(s.kind, s.targets) for s in decoded.calls] == [("tail", (FA,)), ("call", (FB,))]
    assert decoded.frame == 8


def test_halfword_table_cases_are_followed() -> None:
    decoded = _decoded("hsw")
    assert decoded.unknown == ()
    assert [(s.kind, s.targets) for s in decoded.calls] == [("tail", (FA,)), ("tail", (FB,))]


def test_byte_table_through_adr_and_a_register_index_is_followed() -> None:
    decoded = _decoded("rsw")
    assert decoded.unknown == ()
    assert [(s.kind, s.targets) for s in decoded.calls] == [("tail", (FA,)), ("tail", (FB,))]


def test_address_table_inside_the_function_is_a_switch_not_an_indirect_call() -> None:
    decoded = _decoded("wsw")
    assert [(s.kind, s.targets) for s in decoded.calls] == [("tail", (FA,)), ("tail", (FB,))]


def test_byte_table_without_its_bounds_check_stays_unclassified() -> None:
    # `cmp r0, #2` (0x2802) replaced by `movs r1, #2` (0x2102): the entry count is unknown.
    code = CODE.replace("10b50228", "10b50221", 1)
    decoded = _decoded("bsw", code)
    assert [address for address, _ in decoded.unknown] == [0x10E]
