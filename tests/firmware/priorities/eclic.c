/* GD32VF103 ECLIC (Nuclei ECLIC spec: cliccfg at 0xD2000000, nlbits in bits 4:1;
 * clicintctl[n] at 0xD2001000 + 4n + 3, the level in its top nlbits bits; clicintie[n]
 * at + 1). Levels set through GD32VF103-firmware-library-style functions of another
 * translation unit, and by stores; the start-up installs the vector table with mtvt. */
#include <stdint.h>

#define CLICCFG (*(volatile uint8_t *)0xD2000000u)
#define INTIE(n) (*(volatile uint8_t *)(0xD2001000u + 4u * (n) + 1u))
#define INTCTL(n) (*(volatile uint8_t *)(0xD2001000u + 4u * (n) + 3u))

void eclic_priority_group_set(uint32_t nlbits);
void eclic_irq_enable(uint32_t source, uint8_t level, uint8_t priority);

volatile uint32_t events;

void eclic_msip_handler(void) { events += 1; }     /* CLIC_INT_SFT = 3 */
void eclic_mtip_handler(void) { events += 2; }     /* CLIC_INT_TMR = 7 */
void USART0_IRQHandler(void) { events += 3; }      /* 56 */
void TIMER1_IRQHandler(void) { events += 4; }      /* 47 */
__attribute__((aligned(64))) void default_handler(void) { for (;;) { } }   /* mtvec: 64-byte aligned */

__attribute__((aligned(512))) void (*const vector_base[64])(void) = {
    [3] = eclic_msip_handler, [7] = eclic_mtip_handler, [47] = TIMER1_IRQHandler,
    [56] = USART0_IRQHandler,
};

int main(void)
{
    eclic_priority_group_set(3);            /* 3 bits of level */
    eclic_irq_enable(3, 1, 0);              /* EXPECT eclic_msip_handler 1 */
    eclic_irq_enable(7, 2, 0);              /* EXPECT eclic_mtip_handler 2 */
    eclic_irq_enable(56, 1, 1);             /* EXPECT USART0_IRQHandler 1 */
    INTCTL(47) = (3u << 5) | 0x1Fu;         /* EXPECT TIMER1_IRQHandler 3 */
    INTIE(47) = 1;
    __asm__ volatile("csrs mstatus, 8");
    for (;;) {
        __asm__ volatile("wfi");
    }
}

__attribute__((naked, section(".text.start"))) void _start(void)
{
    __asm__ volatile("la sp, 0x20008000\n"
                     "la t0, vector_base\n"
                     "csrw 0x307, t0\n"          /* mtvt */
                     "la t0, default_handler\n"
                     "ori t0, t0, 3\n"           /* mtvec mode 3: ECLIC */
                     "csrw mtvec, t0\n"
                     "call main\n"
                     "1: j 1b\n");
}
