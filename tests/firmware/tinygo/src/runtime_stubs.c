/* Bodies for the TinyGo runtime names: only the names matter to the verifier. */
#include "go.h"

static volatile unsigned sink;
static unsigned char heap[256];

KEEP void *runtime_alloc(unsigned size) { sink += size; return &heap[sink & 127u]; }
KEEP void *runtime_slice_append(void *slice, unsigned n) { return (char *)slice + n; }
KEEP void runtime_chan_send(void *channel, void *value) { sink += (unsigned)(long)channel + (unsigned)(long)value; }
KEEP void task_start(void (*fn)(void)) { sink += (unsigned)(long)fn; }
KEEP void mutex_lock(void *mutex) { sink += (unsigned)(long)mutex; }
KEEP void runtime_printstring(const char *text) { sink += (unsigned)text[0]; }
KEEP void runtime_setup_defer_frame(void *frame) { sink += (unsigned)(long)frame; }
KEEP void time_sleep(long long duration) { sink += (unsigned)duration; }
