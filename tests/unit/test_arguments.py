"""Issue 12 item 3: the constant in an argument register at a call site.

Assembled with arm-none-eabi-as -mcpu=cortex-m4 -mthumb, ld -Ttext 0x100 (objdump):
  f @ 0x100: push {r4, lr}
       0x102 movs r1, #6;  cmp r0, #0;  beq 0x10a;  movs r1, #1
       0x10a bl g              r1 is 6 or 1: a branch lands here -> unknown
       0x10e movs r1, #6;  0x110 bl h
       0x114 bl g              after a call r1 is clobbered -> unknown
       0x118 movs r1, #7;  it eq;  moveq r1, #2
       0x11e bl g              conditional write -> unknown
       0x122 movs r1, #9;  mov.w r3, #0xffffffff
       0x128 bl g              r1 = 9, r3 = 0xffffffff (-1 as a signed int)
       0x12c pop {r4, pc}
  g @ 0x12e: bx lr     h @ 0x130: bx lr
"""

from __future__ import annotations

import pytest
from synth import image

from fwharden.harden.analysis.arguments import constant_argument
from fwharden.harden.analysis.models import ArgumentRule

CODE = ("10b50621002800d0012100f010f8062100f00ef800f00bf8072108bf022100f006f809214ff0ff33"
        "00f001f810bd70477047")
SYMBOLS = {"f": (0x101, 46, "STT_FUNC", "STB_GLOBAL"), "g": (0x12f, 2, "STT_FUNC", "STB_GLOBAL"),
           "h": (0x131, 2, "STT_FUNC", "STB_GLOBAL")}


@pytest.mark.parametrize("site, index, value", [
    (0x10a, 1, None), (0x110, 1, 6), (0x114, 1, None), (0x11e, 1, None), (0x128, 1, 9),
    (0x128, 3, 0xFFFFFFFF), (0x128, 0, None), (0x128, 5, None),
])
def test_constant_argument(site: int, index: int, value: int | None) -> None:
    img = image("arm", CODE, 0x100, SYMBOLS, mapping=[(0x100, "t")])
    assert constant_argument(img, img.function_named("f"), site, index) == value


def test_rule_reads_values_as_signed_and_unknown_is_never_allowed() -> None:
    from_isr = ArgumentRule("xTimerGenericCommand", 1, "xCommandID", (), 6, "why")
    assert from_isr.allows(6) and from_isr.allows(9)
    assert not from_isr.allows(1) and not from_isr.allows(None)
    assert not from_isr.allows(0xFFFFFFFF)  # -1: tmrCOMMAND_EXECUTE_CALLBACK, not FromISR
    zero = ArgumentRule("osSemaphoreAcquire", 1, "timeout", (0,), None, "why")
    assert zero.allows(0) and not zero.allows(0xFFFFFFFF) and not zero.allows(None)


# riscv64-unknown-elf-as -march=rv32imac -mabi=ilp32, ld -m elf32lriscv -Ttext 0x100:
#   f @ 0x100: c.addi sp,-16; c.sw ra,12(sp); c.li a1,6; c.beqz a0,0x10a; c.li a1,1
#        0x10a jal g          a1 is 6 or 1 (the c.beqz lands here) -> unknown
#        0x10e c.li a1,0;  0x110 jal g   -> 0
#        0x114 c.lw ra,12(sp); c.addi sp,16; c.jr ra      g @ 0x11a: c.jr ra
RV_CODE = "411106c6994511c18545ef0000018145ef00a000b240410182808280"
RV_SYMBOLS = {"f": (0x100, 26, "STT_FUNC", "STB_GLOBAL"), "g": (0x11a, 2, "STT_FUNC", "STB_GLOBAL")}


@pytest.mark.parametrize("site, value", [(0x10a, None), (0x110, 0)])
def test_constant_argument_riscv_compressed(site: int, value: int | None) -> None:
    img = image("riscv", RV_CODE, 0x100, RV_SYMBOLS)
    assert constant_argument(img, img.function_named("f"), site, 1) == value
