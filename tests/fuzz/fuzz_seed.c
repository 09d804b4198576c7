/* Seed firmware for the fuzz tier: a vector table, handlers, a call chain, a table. */
#include <stdint.h>

extern uint32_t __stack_top;
volatile uint32_t sink;

__attribute__((noinline)) static uint32_t leaf(uint32_t x) { return x * 3u + 1u; }
__attribute__((noinline)) uint32_t middle(uint32_t x) { return leaf(x) ^ leaf(x >> 1); }

void Reset_Handler(void);
void Timer_IRQHandler(void) { sink = middle(sink); }
void Default_Handler(void) { for (;;) { } }

__attribute__((section(".isr_vector"), used))
const uintptr_t vectors[] = {
    0x20001000u, (uintptr_t)Reset_Handler, (uintptr_t)Default_Handler,
    (uintptr_t)Default_Handler, (uintptr_t)Timer_IRQHandler,
};

void Reset_Handler(void)
{
    for (uint32_t i = 0; i < 4u; i++) {
        switch (sink & 3u) {
        case 0: sink = middle(i); break;
        case 1: sink += 7u; break;
        case 2: sink ^= 0x55u; break;
        default: sink = leaf(sink); break;
        }
    }
    for (;;) { }
}
