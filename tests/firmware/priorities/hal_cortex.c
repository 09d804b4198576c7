/* HAL-style NVIC functions, in their own translation unit so callers cannot inline them
 * (as with ST's stm32f4xx_hal_cortex.c). Written from the register descriptions:
 * AIRCR 0xE000ED0C (ARMv7-M ARM B3.2.6: VECTKEY 0x05FA in bits 31:16, PRIGROUP 10:8),
 * NVIC_IPR 0xE000E400 + n, SHPR1-3 0xE000ED18 + (exception - 4), ISER 0xE000E100. */
#include <stdint.h>

#define PRIO_BITS 4u
#define AIRCR (*(volatile uint32_t *)0xE000ED0Cu)
#define IPR ((volatile uint8_t *)0xE000E400u)
#define SHPR ((volatile uint8_t *)0xE000ED18u)
#define ISER ((volatile uint32_t *)0xE000E100u)

void HAL_NVIC_SetPriorityGrouping(uint32_t group)
{
    uint32_t value = AIRCR & ~(0xFFFFu << 16 | 7u << 8);
    AIRCR = value | 0x05FAu << 16 | (group & 7u) << 8;
}

static uint32_t encode(uint32_t group, uint32_t pre, uint32_t sub)
{
    uint32_t pre_bits = (7u - group) > PRIO_BITS ? PRIO_BITS : 7u - group;
    uint32_t sub_bits = (group + PRIO_BITS) < 7u ? 0u : group - 7u + PRIO_BITS;
    return ((pre & ((1u << pre_bits) - 1u)) << sub_bits) | (sub & ((1u << sub_bits) - 1u));
}

void HAL_NVIC_SetPriority(int32_t irqn, uint32_t pre, uint32_t sub)
{
    uint32_t group = (AIRCR >> 8) & 7u;
    uint8_t byte = (uint8_t)(encode(group, pre, sub) << (8u - PRIO_BITS));
    if (irqn >= 0) {
        IPR[irqn] = byte;
    } else {
        SHPR[(irqn & 0xF) - 4] = byte;
    }
}

void HAL_NVIC_EnableIRQ(int32_t irqn)
{
    ISER[irqn >> 5] = 1u << (irqn & 31);
}
