/* Three roots reach printf through one shared error handler (only when g_fail is set,
 * which the run never does); a handler exists only in the RAM copy of the vector table,
 * another only in a pico-sdk-style shared chain slot (shared.c); a handler reaches malloc
 * through code in RAM and long-branch veneers (ramfunc.c);
 * the run fires every handler but UART1TX; the deepest path it drives is through deep_work.
 * NVIC: ARM DDI 0403E B3.4 (ISER 0xE000E100, ISPR 0xE000E200); SCB->VTOR 0xE000ED08. */
#include <stdint.h>

#include "fwharden.h"

#define VTOR (*(volatile uint32_t *)0xE000ED08u)
#define NVIC_ISER ((volatile uint32_t *)0xE000E100u)
#define NVIC_ISPR ((volatile uint32_t *)0xE000E200u)
#define LATE_IRQ 2u
#define CHAINED_IRQ 6u   /* GPIO0: its handler exists only in a shared chain slot */
#define RAMFUNC_IRQ 7u   /* GPIO1_IRQHandler calls code in RAM through veneers */
#define VECTORS (16u + 32u)

int printf(const char *format, ...);
void irq_add_shared_handler(unsigned num, void (*handler)(void), uint8_t order_priority);
void *memcpy(void *to, const void *from, unsigned n);

volatile int g_fail;
volatile uint32_t g_count;
volatile uint32_t g_sink;
extern uint32_t __fwh_vectors_start[];
static uint32_t ram_vectors[VECTORS] __attribute__((aligned(256)));

__attribute__((noinline)) void shared_error(int code)
{
    if (g_fail) {
        printf("error %d\n", code);
    }
}

__attribute__((noinline)) uint32_t deeper(uint32_t n)
{
    volatile uint32_t scratch[16];
    for (uint32_t i = 0; i < 16u; ++i) {
        scratch[i] = n + i;
    }
    return scratch[n % 16u];
}

__attribute__((noinline)) uint32_t deep_work(uint32_t n)
{
    volatile uint32_t scratch[24];
    for (uint32_t i = 0; i < 24u; ++i) {
        scratch[i] = n + i;
    }
    return deeper(n) + scratch[n % 24u];
}

void UART0RX_IRQHandler(void)
{
    g_sink += deep_work(1);
    shared_error(1);
    g_count++;
}

void UART0TX_IRQHandler(void)
{
    shared_error(2);
    g_count++;
}

void UART1TX_IRQHandler(void)
{
    shared_error(3);
}

/* Installed only at run time, into the RAM copy of the table. */
static void late_handler(void)
{
    g_sink += deep_work(1);
    g_count++;
}

/* Added at run time to a shared chain (shared.c); the chain's slot calls it. */
static void chained_handler(void)
{
    g_sink += deep_work(3);
    g_count++;
}

/* CMSIS NVIC_SetVector: the table is wherever VTOR points. */
__attribute__((noinline)) void set_vector(uint32_t irq, void (*handler)(void))
{
    uint32_t *table = (uint32_t *)VTOR;
    table[irq + 16u] = (uint32_t)handler;
}

int main(void)
{
    memcpy(ram_vectors, __fwh_vectors_start, sizeof ram_vectors);
    VTOR = (uint32_t)ram_vectors;
    set_vector(LATE_IRQ, late_handler);
    irq_add_shared_handler(CHAINED_IRQ, chained_handler, 0);
    NVIC_ISER[0] = (1u << 0) | (1u << 1) | (1u << LATE_IRQ) | (1u << CHAINED_IRQ) |
                   (1u << RAMFUNC_IRQ);
    NVIC_ISPR[0] = 1u << 0;
    NVIC_ISPR[0] = 1u << 1;
    NVIC_ISPR[0] = 1u << LATE_IRQ;
    NVIC_ISPR[0] = 1u << CHAINED_IRQ;
    NVIC_ISPR[0] = 1u << RAMFUNC_IRQ;
    while (g_count < 5u) {
    }
    fwh_puts("high-water isr=");
    fwh_put_dec(fwh_stack_high_water(FWH_STACK_ISR));
    fwh_puts(" thread=");
    fwh_put_dec(fwh_stack_high_water(FWH_STACK_THREAD));
    fwh_puts("\n");
    return 0;
}
