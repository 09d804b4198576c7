/* CubeMX-style start-up: grouping, then each line's priority and enable (hal_cortex.c). */
#include <stdint.h>

#ifndef GROUPING
#define GROUPING 3   /* NVIC_PRIORITYGROUP_4 */
#endif

void HAL_NVIC_SetPriorityGrouping(uint32_t group);
void HAL_NVIC_SetPriority(int32_t irqn, uint32_t pre, uint32_t sub);
void HAL_NVIC_EnableIRQ(int32_t irqn);

volatile uint32_t ticks, events;

void SysTick_Handler(void) { ticks++; }
void EXTI0_IRQHandler(void) { events += 1; }     /* IRQ 6 */
void EXTI1_IRQHandler(void) { events += 2; }     /* IRQ 7 */
void EXTI2_IRQHandler(void) { events += 3; }     /* IRQ 8 */
void EXTI3_IRQHandler(void) { events += 4; }     /* IRQ 9: never configured */

static void MX_GPIO_Init(void)
{
    HAL_NVIC_SetPriority(6, 5, 0);      /* EXPECT 3: EXTI0_IRQHandler 5; 5: 1 */
    HAL_NVIC_EnableIRQ(6);
    HAL_NVIC_SetPriority(7, 5, 1);      /* EXPECT 3: EXTI1_IRQHandler 5; 5: 1 */
    HAL_NVIC_EnableIRQ(7);
    HAL_NVIC_SetPriority(8, 2, 0);      /* EXPECT 3: EXTI2_IRQHandler 2; 5: 2 */
    HAL_NVIC_EnableIRQ(8);
}

int main(void)
{
    HAL_NVIC_SetPriorityGrouping(GROUPING);
    HAL_NVIC_SetPriority(-1, 15, 0);    /* EXPECT 3: SysTick_Handler 15; 5: 3 */
    MX_GPIO_Init();
    for (;;) {
        __asm__ volatile("wfi");
    }
}
