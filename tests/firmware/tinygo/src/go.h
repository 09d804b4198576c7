/* C stand-ins for TinyGo runtime and user functions: each is declared with the exact
 * symbol name TinyGo gives it (package path, receiver, method), so the verifier sees the
 * names it would see in a TinyGo ELF. */
#ifndef GO_H
#define GO_H

#define KEEP __attribute__((noinline, used))
#define GO(name) __asm__(name)

void *runtime_alloc(unsigned size) GO("runtime.alloc");
void *runtime_slice_append(void *slice, unsigned n) GO("runtime.sliceAppend");
void runtime_chan_send(void *channel, void *value) GO("runtime.chanSend");
void task_start(void (*fn)(void)) GO("internal/task.start");
void mutex_lock(void *mutex) GO("(*sync.Mutex).Lock");
void runtime_printstring(const char *text) GO("runtime.printstring");
void runtime_setup_defer_frame(void *frame) GO("runtime.setupDeferFrame");
void time_sleep(long long duration) GO("time.Sleep");

void uart_handle_interrupt(void) GO("machine.(*UART).handleInterrupt");
void main_on_tick(int tick) GO("main.onTick");
void main_safe_handler(void) GO("main.safeHandler");
void main_start_worker(void) GO("main.startWorker");
void main_dispatch(void) GO("main.dispatch");
void main_locked_update(void) GO("main.lockedUpdate");
void main_report(void) GO("main.report");
void main_worker(void) GO("main.worker");

#endif
