/* CMSIS-style inline priority functions (core_cm4.h semantics, written from ARMv7-M ARM
 * B3.2.6 AIRCR, B3.2.11-12 SHPR2/3, B3.4.9 NVIC_IPR): byte stores once inlined. */
#include <stdint.h>

#define PRIO_BITS 4u
#define AIRCR (*(volatile uint32_t *)0xE000ED0Cu)
#define IPR ((volatile uint8_t *)0xE000E400u)
#define SHPR ((volatile uint8_t *)0xE000ED18u)
#define ISER ((volatile uint32_t *)0xE000E100u)

static inline void NVIC_SetPriorityGrouping(uint32_t group)
{
    uint32_t value = AIRCR & ~(0xFFFFu << 16 | 7u << 8);
    AIRCR = value | 0x05FAu << 16 | (group & 7u) << 8;
}

static inline uint32_t NVIC_EncodePriority(uint32_t group, uint32_t pre, uint32_t sub)
{
    uint32_t pre_bits = (7u - group) > PRIO_BITS ? PRIO_BITS : 7u - group;
    uint32_t sub_bits = (group + PRIO_BITS) < 7u ? 0u : group - 7u + PRIO_BITS;
    return ((pre & ((1u << pre_bits) - 1u)) << sub_bits) | (sub & ((1u << sub_bits) - 1u));
}

static inline void NVIC_SetPriority(int32_t irqn, uint32_t priority)
{
    if (irqn >= 0) {
        IPR[irqn] = (uint8_t)(priority << (8u - PRIO_BITS));
    } else {
        SHPR[(irqn & 0xF) - 4] = (uint8_t)(priority << (8u - PRIO_BITS));
    }
}

volatile uint32_t ticks, events;

void SysTick_Handler(void) { ticks++; }
void PendSV_Handler(void) { ticks += 2; }
void EXTI0_IRQHandler(void) { events += 1; }
void EXTI1_IRQHandler(void) { events += 2; }
void EXTI2_IRQHandler(void) { events += 3; }

int main(void)
{
    NVIC_SetPriorityGrouping(5);                         /* 2 bits of preemption */
    NVIC_SetPriority(6, NVIC_EncodePriority(5, 1, 3));   /* EXPECT EXTI0_IRQHandler 1 */
    NVIC_SetPriority(7, NVIC_EncodePriority(5, 1, 0));   /* EXPECT EXTI1_IRQHandler 1 */
    NVIC_SetPriority(8, NVIC_EncodePriority(5, 3, 2));   /* EXPECT EXTI2_IRQHandler 3 */
    NVIC_SetPriority(-1, NVIC_EncodePriority(5, 2, 0));  /* EXPECT SysTick_Handler 2 */
    NVIC_SetPriority(-2, 15);                            /* EXPECT PendSV_Handler 3 */
    ISER[0] = 7u << 6;
    for (;;) {
        __asm__ volatile("wfi");
    }
}
