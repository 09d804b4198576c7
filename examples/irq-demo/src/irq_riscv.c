/* Demo interrupt sources on RISC-V: the machine software interrupt (low) and the machine
 * timer (high). RISC-V machine interrupts do not preempt each other without software
 * help, so here the "high" one runs right after the low handler returns (no nesting).
 * CLINT: msip 0x02000000, mtimecmp 0x02004000, mtime 0x0200BFF8 (SiFive E31 manual 8.1).
 * GD32VF103: the Bumblebee timer unit has msip at 0xD1000FFC and mtimecmp at 0xD1000008. */
#include "demo.h"

#if defined(FWH_ARCH_RISCV)

#if defined(FWH_IRQ_ECLIC)
#define MSIP (*(volatile uint32_t *)0xD1000FFCu)
#define MTIMECMP_LO (*(volatile uint32_t *)0xD1000008u)
#define MTIMECMP_HI (*(volatile uint32_t *)0xD100000Cu)
#define MTIME_LO (*(volatile uint32_t *)0xD1000000u)
/* ECLIC interrupt enable bytes: clicintie[i] at 0xD2001001 + 4 * i. */
#define ECLIC_IE(i) (*(volatile uint8_t *)(0xD2001001u + 4u * (i)))
#define LOW_HANDLER eclic_msip_handler  /* the GD32VF103 firmware library's names */
#define HIGH_HANDLER eclic_mtip_handler
#else
#define MSIP (*(volatile uint32_t *)0x02000000u)
#define MTIMECMP_LO (*(volatile uint32_t *)0x02004000u)
#define MTIMECMP_HI (*(volatile uint32_t *)0x02004004u)
#define MTIME_LO (*(volatile uint32_t *)0x0200BFF8u)
#define LOW_HANDLER MachineSoftware_Handler
#define HIGH_HANDLER MachineTimer_Handler
#endif

#define MIE_MSIE (1u << 3)
#define MIE_MTIE (1u << 7)
#define MSTATUS_MIE (1u << 3)

static void timer_off(void)
{
    MTIMECMP_HI = 0xFFFFFFFFu;
    MTIMECMP_LO = 0xFFFFFFFFu;
}

void demo_irq_setup(void)
{
    timer_off();
#if defined(FWH_IRQ_ECLIC)
    ECLIC_IE(3) = 1u;
    ECLIC_IE(7) = 1u;
#endif
    __asm__ volatile("csrs mie, %0" ::"r"(MIE_MSIE | MIE_MTIE));
    __asm__ volatile("csrs mstatus, %0" ::"r"(MSTATUS_MIE));
}

void demo_trigger_low(void)
{
    MSIP = 1u;
}

void demo_trigger_high(void)
{
    /* Compare value already reached: the timer interrupt is pending at once. */
    MTIMECMP_HI = 0u;
    MTIMECMP_LO = MTIME_LO;
}

void LOW_HANDLER(void)
{
    MSIP = 0u;
    demo_low_handler();
}

void HIGH_HANDLER(void)
{
    timer_off();
    demo_high_handler();
}

#endif
