/* Interrupt-to-thread hand-off primitives; the reasoning is in fwh_handoff.h. */
#include "../fwh_handoff.h"

/* Orders the memory accesses before it against those after it, for the compiler and the
 * core. */
static inline void fwh_barrier(void)
{
#if defined(__arm__)
    __asm__ volatile("dmb" ::: "memory");
#elif defined(__riscv)
    __asm__ volatile("fence rw, rw" ::: "memory");
#else
#error "fwharden handoff: unknown architecture"
#endif
}

void fwh_flag_set(fwh_flag_t *flag)
{
    /* Two handlers at different priorities may race on this increment; either result
     * differs from what the thread has taken (the thread cannot run in between), so the
     * event is seen either way. */
    flag->raised = flag->raised + 1u;
    fwh_barrier();
}

int fwh_flag_take(fwh_flag_t *flag)
{
    uint32_t raised = flag->raised;
    if (raised == flag->taken) {
        return 0;
    }
    flag->taken = raised;
    fwh_barrier();
    return 1;
}

int fwh_ring_push(fwh_ring_t *ring, uint32_t item)
{
    uint32_t head = ring->head;
    if (head - ring->tail > ring->mask) {   /* head - tail == capacity: full */
        ring->refused = ring->refused + 1u;
        return 0;
    }
    ring->slots[head & ring->mask] = item;
    fwh_barrier();                          /* the item is stored before it is published */
    ring->head = head + 1u;
    return 1;
}

int fwh_ring_pop(fwh_ring_t *ring, uint32_t *item)
{
    uint32_t tail = ring->tail;
    if (ring->head == tail) {
        return 0;
    }
    fwh_barrier();                          /* the index is read before the item */
    *item = ring->slots[tail & ring->mask];
    fwh_barrier();                          /* the item is read before its slot is freed */
    ring->tail = tail + 1u;
    return 1;
}

uint32_t fwh_ring_count(const fwh_ring_t *ring)
{
    return ring->head - ring->tail;
}
