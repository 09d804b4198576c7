/* Code that runs from RAM (the STM32 HAL's .RamFunc; here a .data.* section, which the
 * generated script places in SSRAM2 at 0x20000000 and start-up copies there) calling flash
 * code and back. .text is in SSRAM1 at 0x00000000: 512 MiB away, beyond the +-16 MiB a
 * Thumb-2 BL reaches (ARM DDI 0403E A7.7.18), so GNU ld inserts long-branch veneers
 * (`__ram_worker_veneer`, `__flash_helper_veneer`: ldr.w pc, [pc]; .word target) and
 * ld.lld its own thunks. */
#include <stdint.h>

extern volatile int g_fail;
extern volatile uint32_t g_sink;
extern volatile uint32_t g_count;
void *malloc(unsigned n);

__attribute__((noinline)) void flash_helper(uint32_t n)
{
    if (g_fail) {
        g_sink += (uint32_t)malloc(n);
    }
    g_sink += n;
}

__attribute__((noinline, section(".data.ramfunc"))) void ram_worker(uint32_t n)
{
    flash_helper(n + 1u);
}

void GPIO1_IRQHandler(void)
{
    ram_worker(g_count);
    g_count++;
}
