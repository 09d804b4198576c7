/* What a Go programmer's interrupt handlers would compile to, one wrong thing each. */
#include "go.h"

static volatile int g_state;
static unsigned char g_buffer[16];
static void *g_channel;
static int g_mutex;

/* Direct calls: the UART handler appends to a slice (allocates). */
KEEP void uart_handle_interrupt(void)
{
    runtime_slice_append(g_buffer, (unsigned)g_state);
    g_state++;
}

/* Tail calls: the timer handler sends on a channel as its last act. */
KEEP void main_on_tick(int tick)
{
    runtime_chan_send(g_channel, (void *)(long)tick);
}

/* A read-only table of handlers, called by index: one of them starts a goroutine. */
KEEP void main_worker(void) { g_state = 7; }
KEEP void main_safe_handler(void) { g_state++; }
KEEP void main_start_worker(void) { task_start(main_worker); }
static void (*const handlers[2])(void) = {main_safe_handler, main_start_worker};

KEEP void run_handler(int index)
{
    handlers[index & 1]();
}

/* A callback in RAM: only firmware.toml [harden.indirect] can say where it goes. */
KEEP void main_locked_update(void) { mutex_lock(&g_mutex); g_state = 0; }
void (*volatile main_callback)(void) = main_locked_update;

KEEP void main_dispatch(void)
{
    main_callback();
}

/* Print, defer and sleep in one helper. */
KEEP void main_report(void)
{
    runtime_setup_defer_frame(&g_state);
    runtime_printstring("tick");
    time_sleep(1000);
}
