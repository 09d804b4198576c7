"""Issue 11 item 3: vectors installed at run time become roots, or an error finding.

ARM: SCB->VTOR is 0xE000ED08 (ARM DDI 0403E B3.2.5). `set_vector` is CMSIS
NVIC_SetVector's shape (vectors = (uint32_t *)SCB->VTOR; vectors[IRQn + 16] = handler);
`irq_set_exclusive_handler` -> `set_raw` is pico-sdk's (hardware_irq/irq.c), where the
handler reaches the store two calls down as an argument.
"""

from __future__ import annotations

from synth import image, words

from fwharden.board_profiles.project import HardenPolicy
from fwharden.harden.analysis.verify import verify

# reset @ 0x100 (thread):
#     ldr r3, =0xE000ED08; ldr r2, =table2; str r2, [r3]      @ VTOR = table2 (flash)
#     ldr r1, =h_rt;   movs r0, #5; bl set_vector             @ NVIC_SetVector(5, h_rt)
#     ldr r1, =h_pico; movs r0, #7; bl irq_set_exclusive_handler
#     ldr r1, [r4];    movs r0, #3; bl set_vector             @ a handler from memory
#     b .
# set_vector @ 0x130: ldr r3, =0xE000ED08; ldr r3, [r3]; adds r0, #16;
#                     str.w r1, [r3, r0, lsl #2]; bx lr
# irq_set_exclusive_handler @ 0x140: push {r4, lr}; movs r2, #0; bl set_raw; pop {r4, pc}
# set_raw @ 0x14a: (as set_vector)
# h_rt @ 0x15c, h_pico @ 0x160, h_tab @ 0x164: b.w malloc;  malloc @ 0x168: bx lr
# default @ 0x16a: b .
# table2 @ 0x1000 (.rodata): .word 0x20001000, reset, default, default, h_tab
CODE = ("074b084a1a600849052000f011f80749072000f015f82168032000f009f8fee7"
        "08ed00e0001000005d01000061010000024b1b68103043f82010704708ed00e0"
        "10b5002200f001f810bd034b1b68103043f820107047000008ed00e000f004b8"
        "00f002b800f000b87047fee7")
SYMBOLS = {
    "reset": (0x101, 48, "STT_FUNC", "STB_GLOBAL"),
    "set_vector": (0x131, 16, "STT_FUNC", "STB_GLOBAL"),
    "irq_set_exclusive_handler": (0x141, 10, "STT_FUNC", "STB_GLOBAL"),
    "set_raw": (0x14b, 18, "STT_FUNC", "STB_GLOBAL"),
    "h_rt": (0x15d, 4, "STT_FUNC", "STB_GLOBAL"),
    "h_pico": (0x161, 4, "STT_FUNC", "STB_GLOBAL"),
    "h_tab": (0x165, 4, "STT_FUNC", "STB_GLOBAL"),
    "malloc": (0x169, 2, "STT_FUNC", "STB_GLOBAL"),
    "default": (0x16b, 2, "STT_FUNC", "STB_GLOBAL"),
    "table2": (0x1000, 20, "STT_OBJECT", "STB_GLOBAL"),
}
MAPPING = [(0x100, "t"), (0x120, "d"), (0x130, "t"), (0x13c, "d"), (0x140, "t"),
           (0x156, "d"), (0x15c, "t")]


def _result():
    img = image("arm", CODE, 0x100, SYMBOLS, mapping=MAPPING, entry="reset",
                vectors=[0x20001000, "reset", "default", "default"],
                data={".rodata": (0x1000, words(0x20001000, 0x101, 0x16B, 0x16B, 0x165),
                                  False)})
    return verify(img, None, HardenPolicy(), {})


def test_handlers_installed_at_run_time_are_roots() -> None:
    result = _result()
    names = {i.name for i in result.interrupts}
    assert {"h_rt", "h_pico", "h_tab"} <= names
    heap = {f.root: f.path for f in result.findings if f.rule == "heap"}
    assert heap["h_rt"] == ("h_rt", "malloc")
    assert heap["h_pico"] == ("h_pico", "malloc")
    assert heap["h_tab"] == ("h_tab", "malloc")


def test_a_handler_the_verifier_cannot_follow_is_an_error() -> None:
    moved = [f for f in _result().findings if f.rule == "vector-moved"]
    assert [(f.site, f.severity) for f in moved] == [(0x11A, "error")]
    assert "cannot follow" in moved[0].message


# .option norelax
# _start @ 0x20000000: la a0, trap2; call set_trap; lw a0, 0(s1); call set_trap; 1: j 1b
# set_trap @ 0x2000001c: csrw mtvec, a0; ret       (the trap entry arrives as an argument)
# (.balign 64) trap2 @ 0x20000040: tail malloc;  malloc @ 0x20000048: ret
RV_CODE = ("170500001305050497000000e7804001884097000000e780a00001a073105530"
           "828001001300000013000000130000001300000013000000130000001300000"
           "0170300006700830082800100")
RV_SYMBOLS = {
    "_start": (0x20000000, 28, "STT_FUNC", "STB_GLOBAL"),
    "set_trap": (0x2000001C, 6, "STT_FUNC", "STB_GLOBAL"),
    "trap2": (0x20000040, 8, "STT_FUNC", "STB_GLOBAL"),
    "malloc": (0x20000048, 2, "STT_FUNC", "STB_GLOBAL"),
}


def test_mtvec_from_an_argument_is_followed_to_the_caller_constant() -> None:
    img = image("riscv", RV_CODE, 0x20000000, RV_SYMBOLS, entry="_start")
    result = verify(img, None, HardenPolicy(), {})
    trap = next(i for i in result.interrupts if i.name == "trap2")
    assert trap.kind == "trap-entry"
    assert [(f.root, f.path) for f in result.findings if f.rule == "heap"] == [
        ("trap2", ("trap2", "malloc"))]
    moved = [f for f in result.findings if f.rule == "vector-moved"]
    assert [f.site for f in moved] == [0x20000016]   # the second call: a0 from memory
    assert not [f for f in result.findings if f.rule == "roots"]


def test_vector_into_ram_with_no_function_is_an_error_not_a_note() -> None:
    # The same code with h_rt's literal pointing into RAM (a trampoline written at run
    # time: the ELF has no code there), as a pico-sdk chain slot with a fixed address is.
    code = CODE.replace("5d010000", "01010020")
    img = image("arm", code, 0x100, SYMBOLS, mapping=MAPPING, entry="reset",
                vectors=[0x20001000, "reset", "default", "default"],
                data={".rodata": (0x1000, words(0x20001000, 0x101, 0x16B, 0x16B, 0x165),
                                  False),
                      ".bss": (0x20000000, bytes(0x200), True)})
    result = verify(img, None, HardenPolicy(), {})
    moved = [f for f in result.findings if f.rule == "vector-moved"]
    assert any("pointing into RAM at 0x20000101" in f.message and f.severity == "error"
               for f in moved), moved
    assert "h_rt" not in {i.name for i in result.interrupts}
