/* Stand-ins with the names, prototypes and argument order of FreeRTOS's timers.c and
 * CMSIS-RTOS2's cmsis_os2.h. The verifier judges the call site, not these bodies; they
 * are noinline and in their own file so every call stays a real call. */
#include "rtos.h"

volatile long g_sink;

__attribute__((noinline)) long xTimerGenericCommand(void *timer, long command, unsigned long value,
                                                    long *woken, unsigned long ticks)
{
    g_sink = (long)timer + command + (long)value + (long)woken + (long)ticks;
    return 1;
}

__attribute__((noinline)) int osSemaphoreAcquire(void *semaphore, unsigned timeout)
{
    g_sink = (long)semaphore + (long)timeout;
    return 0;
}

__attribute__((noinline)) int osMessageQueuePut(void *queue, const void *message,
                                                unsigned char priority, unsigned timeout)
{
    g_sink = (long)queue + (long)message + priority + (long)timeout;
    return 0;
}

/* Called from main so the CMSIS-RTOS2 and FreeRTOS models' detect symbols exist. */
__attribute__((noinline)) int osKernelInitialize(void)
{
    return (int)g_sink;
}

__attribute__((noinline)) void vTaskStartScheduler(void)
{
    g_sink = 0;
}
