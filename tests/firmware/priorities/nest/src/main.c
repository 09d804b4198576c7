/* UART0RX (IRQ 0) and UART0TX (IRQ 1) at one priority, UART1RX (IRQ 2) above them.
 * IRQ 0 pends IRQ 1 and waits: of equal priority, IRQ 1 cannot preempt it (ARMv7-M ARM
 * B1.5.4) and runs only after IRQ 0 returns. Then IRQ 0 pends IRQ 2, which preempts it
 * at once. Each handler notes whether it ran inside IRQ 0; main prints that and the
 * interrupt stack's high water. NVIC: B3.4 (ISER 0xE000E100, ISPR 0xE000E200,
 * IPR 0xE000E400, 3 priority bits on the MPS2: the top 3 of each byte). */
#include <stdint.h>

#include "fwharden.h"

#define NVIC_ISER ((volatile uint32_t *)0xE000E100u)
#define NVIC_ISPR ((volatile uint32_t *)0xE000E200u)
#define NVIC_IPR ((volatile uint8_t *)0xE000E400u)

volatile uint32_t in_low, low_done, tx_inside, tx_ran, rx1_inside, rx1_ran;
volatile uint32_t sink;

__attribute__((noinline)) static uint32_t work(uint32_t n)
{
    volatile uint32_t scratch[48];
    for (uint32_t i = 0; i < 48u; ++i) {
        scratch[i] = n + i;
    }
    return scratch[n % 48u];
}

void UART0RX_IRQHandler(void)
{
    volatile uint32_t frame[32];
    in_low = 1;
    frame[0] = work(1);
    NVIC_ISPR[0] = 1u << 1;              /* equal priority: stays pending */
    __asm__ volatile("dsb\n isb" ::: "memory");
    for (uint32_t i = 0; i < 1000u; ++i) {
        frame[i % 32u] += i;
    }
    NVIC_ISPR[0] = 1u << 2;              /* higher priority: preempts here */
    __asm__ volatile("dsb\n isb" ::: "memory");
    sink += frame[3];
    in_low = 0;
    low_done = 1;
}

void UART0TX_IRQHandler(void)
{
    tx_inside = in_low;
    sink += work(2);
    tx_ran = 1;
}

void UART1RX_IRQHandler(void)
{
    rx1_inside = in_low;
    sink += work(3);
    rx1_ran = 1;
}

int main(void)
{
    NVIC_IPR[0] = 2u << 5;               /* UART0RX: 2 */
    NVIC_IPR[1] = 2u << 5;               /* UART0TX: 2, the same */
    NVIC_IPR[2] = 1u << 5;               /* UART1RX: 1, above both */
    NVIC_ISER[0] = 7u;
    NVIC_ISPR[0] = 1u << 0;
    __asm__ volatile("dsb\n isb" ::: "memory");
    while (!(low_done && tx_ran && rx1_ran)) {
    }
    fwh_puts("tx_inside=");
    fwh_put_dec(tx_inside);
    fwh_puts(" rx1_inside=");
    fwh_put_dec(rx1_inside);
    fwh_puts(" high-water isr=");
    fwh_put_dec(fwh_stack_high_water(FWH_STACK_ISR));
    fwh_puts("\n");
    return 0;
}
