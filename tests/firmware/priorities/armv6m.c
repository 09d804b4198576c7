/* ARMv6-M (Cortex-M0): NVIC_IPR and SHPR2/3 are word-access only (ARMv6-M ARM B3.4.7,
 * B3.2.8), so setting one priority is a read-modify-write of its word. 2 priority bits. */
#include <stdint.h>

#define IPR ((volatile uint32_t *)0xE000E400u)
#define SHPR3 (*(volatile uint32_t *)0xE000ED20u)
#define ISER ((volatile uint32_t *)0xE000E100u)

static inline void set_priority(uint32_t irq, uint32_t prio)
{
    uint32_t shift = 8u * (irq % 4u);
    IPR[irq / 4u] = (IPR[irq / 4u] & ~(0xFFu << shift)) | ((prio << 6) & 0xFFu) << shift;
}

volatile uint32_t ticks, events;

void SysTick_Handler(void) { ticks++; }
void EXTI0_IRQHandler(void) { events += 1; }
void EXTI1_IRQHandler(void) { events += 2; }
void EXTI2_IRQHandler(void) { events += 3; }

int main(void)
{
    set_priority(6, 2);                       /* EXPECT EXTI0_IRQHandler 2 */
    set_priority(7, 2);                       /* EXPECT EXTI1_IRQHandler 2 */
    set_priority(8, 1);                       /* EXPECT EXTI2_IRQHandler 1 */
    SHPR3 = (SHPR3 & 0x00FFFFFFu) | 3u << 30; /* EXPECT SysTick_Handler 3 */
    ISER[0] = 7u << 6;
    for (;;) {
        __asm__ volatile("wfi");
    }
}
