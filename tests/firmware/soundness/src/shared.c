/* pico-sdk's shared IRQ handler chain in miniature (src/rp2_common/hardware_irq/irq.c and
 * irq_handler_chain.S): irq_add_shared_handler(num, handler, order_priority) writes a Thumb
 * trampoline into a RAM slot taken from a free list and stores the slot's address (Thumb
 * bit set) in the RAM vector table through VTOR. The hardware enters the slot, which saves
 * {r0, lr} (8 bytes), loads the handler from the slot and calls it. The stored value is an
 * address computed at run time, in RAM: only the handler argument names the code. */
#include <stdint.h>

#define VTOR (*(volatile uint32_t *)0xE000ED08u)
#define SLOTS 4

struct slot {
    uint16_t inst[4];
    uint32_t handler;
};

static struct slot slots[SLOTS] __attribute__((aligned(8)));
static volatile int8_t free_head;   /* the next free slot, as pico-sdk keeps it */

__attribute__((noinline)) void irq_add_shared_handler(unsigned num, void (*handler)(void),
                                                      uint8_t order_priority)
{
    (void)order_priority;
    struct slot *slot = &slots[free_head];
    free_head = (int8_t)(free_head + 1);
    slot->inst[0] = 0xb501u;   /* push {r0, lr} */
    slot->inst[1] = 0x4801u;   /* ldr r0, [pc, #4]: the handler word at slot + 8 */
    slot->inst[2] = 0x4780u;   /* blx r0 */
    slot->inst[3] = 0xbd01u;   /* pop {r0, pc}: EXC_RETURN from lr, back from the exception */
    slot->handler = (uint32_t)handler;
    __asm volatile("dsb\n\tisb" ::: "memory");
    ((volatile uint32_t *)VTOR)[16u + num] = (uint32_t)slot | 1u;
}
