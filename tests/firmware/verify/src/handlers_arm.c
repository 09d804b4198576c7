/* ARM: one IRQ handler per scenario. Every other vector stays a weak alias of
 * Default_Handler, which the verifier must report as one root. */
#include "scenarios.h"

#if defined(FWH_ARCH_ARM)
void TIMER0_IRQHandler(void)
{
    scenario_deep();
}

void TIMER1_IRQHandler(void)
{
    scenario_tail(3);
}

void SPI_IRQHandler(void)
{
    scenario_indirect();
}

void UARTOVF_IRQHandler(void)
{
    scenario_dispatch(1);
}

void GPIO0_IRQHandler(void)
{
    (void)scenario_recursion(5);
}

void GPIO1_IRQHandler(void)
{
    extern volatile int g_input;
    (void)scenario_switch(g_input);
}
#endif
