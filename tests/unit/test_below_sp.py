"""Issue 11 item 5: stores below SP without moving it (`str r0, [sp, #-4]`,
`sw t0, -4(sp)`) are stack use; the frame holds them, so no bound under-states.

Expected frames are counted by hand from the listing beside each hex string (the lowest
byte each store writes, below the SP at entry), not taken from fwharden's output.
"""

from __future__ import annotations

from synth import image

from fwharden.board_profiles.project import HardenPolicy
from fwharden.harden.analysis.verify import verify
from fwharden.harden.isa.rv32 import decode_riscv
from fwharden.harden.isa.thumb import decode_arm

# parks @ 0x200 (arm-none-eabi-as -mcpu=cortex-m4 -mthumb):
#   str.w   r0, [sp, #-4]        4 below entry SP
#   strd    r2, r3, [sp, #-16]  16
#   push    {r4, lr}             8 held
#   str.w   r1, [sp, #-32]       8 + 32 = 40
#   strb.w  r1, [sp, #-33]       8 + 33 = 41
#   pop     {r4, pc}
ARM_CODE = "4df8040c4de9042310b54df8201c0df8211c10bd"
ARM_SYMBOLS = {"parks": (0x201, 20, "STT_FUNC", "STB_GLOBAL")}

# vparks @ 0x300 (-mfpu=fpv4-sp-d16):
#   vstr    d0, [sp, #-16]      16 below entry SP
#   vstr    s2, [sp, #-20]      20
#   bx      lr
VFP_CODE = "0ded040b0ded051a7047"
VFP_SYMBOLS = {"vparks": (0x301, 10, "STT_FUNC", "STB_GLOBAL")}

# _start @ 0x20000000: la t0, trap; csrw mtvec, t0; 1: j 1b
# (c.nop)
# trap   @ 0x20000010 (.balign 4: mtvec's low bits are its mode):
#   sw    t0, -4(sp)             4 below entry sp
#   addi  sp, sp, -16           16
#   sw    a0, -8(sp)            16 + 8 = 24
#   sh    a1, -10(sp)           16 + 10 = 26
#   addi  sp, sp, 16
#   mret
RV_CODE = "97020000938202017390523001a00100232e51fe4111232ca1fe231bb1fe410173002030"
RV_SYMBOLS = {
    "_start": (0x20000000, 14, "STT_FUNC", "STB_GLOBAL"),
    "trap": (0x20000010, 20, "STT_FUNC", "STB_GLOBAL"),
}


def test_thumb_stores_below_sp_are_in_the_frame() -> None:
    img = image("arm", ARM_CODE, 0x200, ARM_SYMBOLS)
    decoded = decode_arm(img, img.function_named("parks"))
    assert decoded.frame == 41
    assert not decoded.frame_dynamic and not decoded.unknown


def test_thumb_vfp_stores_below_sp_are_in_the_frame() -> None:
    img = image("arm", VFP_CODE, 0x300, VFP_SYMBOLS)
    decoded = decode_arm(img, img.function_named("vparks"))
    assert decoded.frame == 20 and not decoded.unknown


def test_rv32_stores_below_sp_are_in_the_frame() -> None:
    img = image("riscv", RV_CODE, 0x20000000, RV_SYMBOLS, entry="_start")
    decoded, _ = decode_riscv(img, img.function_named("trap"))
    assert decoded.frame == 26
    assert not decoded.frame_dynamic, decoded.frame_note


def test_rv32_trap_entry_bound_counts_the_parked_words() -> None:
    img = image("riscv", RV_CODE, 0x20000000, RV_SYMBOLS, entry="_start")
    result = verify(img, None, HardenPolicy(), {})
    (trap,) = [i for i in result.interrupts if i.name == "trap"]
    assert trap.stack.bytes == 26 and trap.stack.kind == "exact"
    assert result.isr_stack.worst_case.bytes >= 26
