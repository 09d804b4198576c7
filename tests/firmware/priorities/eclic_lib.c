/* GD32VF103-firmware-library-style ECLIC functions (own translation unit, not inlined
 * into callers): cliccfg.nlbits, clicintctl level (top nlbits bits) and clicintie. */
#include <stdint.h>

#define CLICCFG (*(volatile uint8_t *)0xD2000000u)
#define INTIE(n) (*(volatile uint8_t *)(0xD2001000u + 4u * (n) + 1u))
#define INTCTL(n) (*(volatile uint8_t *)(0xD2001000u + 4u * (n) + 3u))

void eclic_priority_group_set(uint32_t nlbits)
{
    CLICCFG = (uint8_t)((CLICCFG & ~0x1Eu) | (nlbits & 0xFu) << 1);
}

void eclic_irq_enable(uint32_t source, uint8_t level, uint8_t priority)
{
    uint32_t nlbits = (CLICCFG >> 1) & 0xFu;
    INTCTL(source) = (uint8_t)(level << (8u - nlbits) | priority | 0x0Fu);
    INTIE(source) = 1;
}
