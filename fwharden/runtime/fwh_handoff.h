/* fwharden runtime: hand-off from an interrupt to the thread (issue 17 item 2).
 *
 * The "correct approach" for work an interrupt starts: the handler records the event and
 * returns; main() does the work. Two primitives, both non-blocking, lock-free and safe to
 * call from any handler (fwharden verify finds no forbidden call in them):
 *
 *   fwh_flag_t: set in an interrupt (fwh_flag_set), tested and cleared in the thread
 *     (fwh_flag_take). A set that happens while the thread is taking the flag is not
 *     lost: the producer counts raises, the consumer remembers the count it has seen, so
 *     every word has exactly one writer and no read-modify-write is shared.
 *   fwh_ring_t: single producer (one interrupt), single consumer (the thread) ring of
 *     32-bit items. Push never blocks: when the ring is full it refuses the item and
 *     counts the refusal (`refused`); pop returns 0 when empty.
 *
 * Why no LDREX/STREX or AMO: ARMv6-M has neither LDREX nor STREX and RV32IMC has no A
 * extension; with one writer per word, aligned word loads and stores suffice (they are
 * single-copy atomic: ARM DDI 0403E A3.5.3, ARM DDI 0419 A3.5.3, RISC-V unprivileged
 * spec 20191213 chapter 14 "RVWMO", aligned word accesses). The barrier orders the item's
 * store before the index store that publishes it, and the item's load before the index
 * store that frees its slot: DMB on Cortex-M (present on ARMv6-M too, DDI 0419 A6.7.21;
 * ARM AN321 3.2 on when Cortex-M needs it), FENCE RW,RW on RISC-V (base ISA, so RV32IMC
 * has it), each also a compiler barrier.
 *
 * Two handlers must not push into one ring (two producers break the SPSC property); give
 * each producer its own ring. Several handlers may set one flag.
 */
#ifndef FWHARDEN_HANDOFF_H
#define FWHARDEN_HANDOFF_H

#include <stdint.h>

typedef struct {
    volatile uint32_t raised;   /* written by the interrupt(s) only */
    volatile uint32_t taken;    /* written by the thread only */
} fwh_flag_t;

#define FWH_FLAG_INIT {0u, 0u}

typedef struct {
    volatile uint32_t head;     /* next slot to fill: written by the producer only */
    volatile uint32_t tail;     /* next slot to read: written by the consumer only */
    volatile uint32_t refused;  /* pushes refused because the ring was full (producer) */
    uint32_t mask;              /* capacity - 1; the capacity is a power of two */
    volatile uint32_t *slots;
} fwh_ring_t;

/* A ring over `storage`, an array of `capacity` words (a power of two, at least 2). */
#define FWH_RING_INIT(storage, capacity) \
    {0u, 0u, 0u, (uint32_t)(capacity) - 1u, (storage)}

/* Interrupt side. */
void fwh_flag_set(fwh_flag_t *flag);
/* 1 when the ring took `item`, 0 when it was full (then `refused` counts it). */
int fwh_ring_push(fwh_ring_t *ring, uint32_t item);

/* Thread side. 1 when the flag was set since the last take (it is then clear), else 0. */
int fwh_flag_take(fwh_flag_t *flag);
/* 1 and the oldest item in *item, or 0 when the ring is empty. */
int fwh_ring_pop(fwh_ring_t *ring, uint32_t *item);
/* Items waiting (a snapshot: the producer may add more at once). */
uint32_t fwh_ring_count(const fwh_ring_t *ring);

#endif
