/* One handler per case (mps2-an500 IRQ handlers). */
#include "rtos.h"

void *g_timer, *g_semaphore, *g_queue;
volatile long g_command = 1;
static long s_woken;
static const int s_message = 7;

#define CASE_TIMER_FROM_ISR UART0RX_IRQHandler
#define CASE_TIMER_BLOCKING UART0TX_IRQHandler
#define CASE_TIMER_COMPUTED UART1RX_IRQHandler
#define CASE_SEM_ZERO UART1TX_IRQHandler
#define CASE_SEM_WAIT GPIO0_IRQHandler
#define CASE_QUEUE GPIO1_IRQHandler

void CASE_TIMER_FROM_ISR(void)
{
    xTimerStartFromISR(g_timer, &s_woken);
    xTimerStopFromISR(g_timer, &s_woken);
}

void CASE_TIMER_BLOCKING(void)
{
    xTimerStart(g_timer, 10);
}

void CASE_TIMER_COMPUTED(void)
{
    xTimerGenericCommand(g_timer, g_command, 0, &s_woken, 0);
}

void CASE_SEM_ZERO(void)
{
    osSemaphoreAcquire(g_semaphore, 0);
    osMessageQueuePut(g_queue, &s_message, 0, 0);
}

void CASE_SEM_WAIT(void)
{
    osSemaphoreAcquire(g_semaphore, 10);
}

void CASE_QUEUE(void)
{
    osMessageQueuePut(g_queue, &s_message, 0, osWaitForever);
}

int main(void)
{
    osKernelInitialize();
    vTaskStartScheduler();
    for (;;) {
    }
}
