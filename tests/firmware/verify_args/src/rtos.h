#ifndef RTOS_H
#define RTOS_H
/* FreeRTOS timers.h command ids (V10.x) and the FromISR macros' expansion. */
#define tmrCOMMAND_START 1
#define tmrCOMMAND_START_FROM_ISR 6
#define tmrCOMMAND_STOP_FROM_ISR 8
#define osWaitForever 0xFFFFFFFFu

long xTimerGenericCommand(void *timer, long command, unsigned long value, long *woken,
                          unsigned long ticks);
int osSemaphoreAcquire(void *semaphore, unsigned timeout);
int osMessageQueuePut(void *queue, const void *message, unsigned char priority, unsigned timeout);
int osKernelInitialize(void);
void vTaskStartScheduler(void);

#define xTimerStartFromISR(t, woken) \
    xTimerGenericCommand((t), tmrCOMMAND_START_FROM_ISR, 0, (woken), 0U)
#define xTimerStopFromISR(t, woken) \
    xTimerGenericCommand((t), tmrCOMMAND_STOP_FROM_ISR, 0, (woken), 0U)
#define xTimerStart(t, ticks) xTimerGenericCommand((t), tmrCOMMAND_START, 0, 0, (ticks))
#endif
