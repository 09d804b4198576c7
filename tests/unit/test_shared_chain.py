"""pico-sdk's shared IRQ handlers (hardware_irq/irq.c, irq_handler_chain.S), in miniature:
irq_add_shared_handler(num, handler, prio) stores a computed chain-slot address through
VTOR, irq_remove_handler re-stores a slot it loads. The handler argument is the root, for
its IRQ, with the chain entry's frame below it; neither store is a vector-moved error.

The expected frame is counted by hand from the listing (push {r0, r1, r2, lr} = 16 B here,
not pico-sdk's 8 B, so the test tells a decoded frame from the fallback figure).
"""

from __future__ import annotations

from synth import image

from fwharden.board_profiles.project import HardenPolicy
from fwharden.harden.analysis.verify import verify

# arm-none-eabi-as -mcpu=cortex-m4 -mthumb; ld -Ttext 0x100 -Tdata 0x20000000
# reset @ 0x100: movs r0, #13; ldr r1, =handler; movs r2, #0; bl irq_add_shared_handler;
#                movs r0, #13; ldr r1, =handler; bl irq_remove_handler; b .
# irq_add_shared_handler @ 0x118: ldr r3, =0xE000ED08; ldr r3, [r3]; ldr r2, =free_head;
#     ldrb r2, [r2]; lsls r2, #3; ldr.w ip, =slots; add r2, ip; adds r2, #1; adds r0, #16;
#     str.w r2, [r3, r0, lsl #2]; bx lr
# irq_remove_handler @ 0x140: ldr r3, =0xE000ED08; ldr r3, [r3]; ldr r2, =slots;
#     ldr r2, [r2]; adds r0, #16; str.w r2, [r3, r0, lsl #2]; bx lr
# handler @ 0x158: push {r4, lr}; sub sp, #16; add sp, #16; pop {r4, pc}      (24 B)
# .data @ 0x20000000: slots (16 B), free_head (1 B),
#   irq_handler_chain_first_slot @ 0x20000012: push {r0, r1, r2, lr}; ldr r0, [r1, #4];
#       adds r1, #1; mov lr, r1; bx r0
#   irq_handler_chain_remove_tail @ 0x2000001c: bx lr
CODE = ("0d200449002200f007f80d20014900f017f8fee759010000064b1b68064a1278"
        "d200dff818c062440132103043f820207047000008ed00e01000002000000020"
        "034b1b68034a1268103043f82020704708ed00e00000002010b584b004b010bd")
DATA = "00000000000000000000000000000000000007b5486801318e4600477047"
SYMBOLS = {
    "reset": (0x101, 24, "STT_FUNC", "STB_GLOBAL"),
    "irq_add_shared_handler": (0x119, 40, "STT_FUNC", "STB_GLOBAL"),
    "irq_remove_handler": (0x141, 24, "STT_FUNC", "STB_GLOBAL"),
    "handler": (0x159, 8, "STT_FUNC", "STB_GLOBAL"),
    "slots": (0x20000000, 0, "STT_NOTYPE", "STB_GLOBAL"),
    "free_head": (0x20000010, 0, "STT_NOTYPE", "STB_GLOBAL"),
    "irq_handler_chain_first_slot": (0x20000012, 0, "STT_NOTYPE", "STB_GLOBAL"),
    "irq_handler_chain_remove_tail": (0x2000001C, 0, "STT_NOTYPE", "STB_GLOBAL"),
}
MAPPING = [(0x100, "t"), (0x114, "d"), (0x118, "t"), (0x132, "d"), (0x140, "t"),
           (0x150, "d"), (0x158, "t"), (0x20000000, "d"), (0x20000012, "t")]


def _result():
    img = image("arm", CODE, 0x100, SYMBOLS, mapping=MAPPING, entry="reset",
                vectors=[0x20001000, "reset"],
                data={".data": (0x20000000, bytes.fromhex(DATA), True, True)})
    return verify(img, None, HardenPolicy(), {})


def test_the_handler_given_to_irq_add_shared_handler_is_a_root_for_its_irq() -> None:
    result = _result()
    (root,) = [i for i in result.interrupts if i.name == "handler"]
    assert root.labels == ("run-time", "IRQ 13")
    # handler's own 8 B (push) + 16 B (sub sp), below the chain entry's decoded 16 B.
    assert root.stack.bytes == 8 + 16 + 16 and root.stack.kind == "exact"


def test_chain_slot_stores_are_notes_not_vector_moved() -> None:
    result = _result()
    assert not [f for f in result.findings if f.rule == "vector-moved"]
    assert any(n.startswith("irq_add_shared_handler:") for n in result.notes)
    assert any(n.startswith("irq_remove_handler:") for n in result.notes)
