/* The smallest Cortex-M start-up for the fixtures: a vector table in .isr_vector with the
 * handlers at their exception numbers (1 reset, 15 SysTick, 16 + n IRQ n). */
#include <stdint.h>

extern int main(void);
void Reset_Handler(void) { main(); for (;;) { } }
void Default_Handler(void) { for (;;) { } }

#define WEAK __attribute__((weak, alias("Default_Handler")))
void SysTick_Handler(void) WEAK;
void PendSV_Handler(void) WEAK;
void EXTI0_IRQHandler(void) WEAK;
void EXTI1_IRQHandler(void) WEAK;
void EXTI2_IRQHandler(void) WEAK;
void EXTI3_IRQHandler(void) WEAK;

__attribute__((section(".isr_vector"), used))
void (*const vectors[26])(void) = {
    (void (*)(void))0x20001000u, Reset_Handler, Default_Handler, Default_Handler,
    [14] = PendSV_Handler, [15] = SysTick_Handler,
    [22] = EXTI0_IRQHandler, [23] = EXTI1_IRQHandler, [24] = EXTI2_IRQHandler,
    [25] = EXTI3_IRQHandler,
};
