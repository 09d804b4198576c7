// Package handoff hands work from an interrupt to the thread: an event flag and a
// single-producer/single-consumer ring of 32-bit items, with the semantics of fwharden's
// C primitives (fwharden/runtime/fwh_handoff.h), for TinyGo on Cortex-M and RISC-V.
//
// The "correct approach" for work an interrupt starts: the handler records the event
// and returns; main does the work. Everything here is safe in an interrupt handler: no
// allocation, no lock, no blocking, no channel, no panic after construction. fwharden's
// verifier knows these functions (fwharden/harden/models/tinygo-handoff.toml).
//
//   - Flag: Set in any handler, Take in the thread. A Set while the thread takes is never
//     lost: the handlers count raises, the thread remembers the count it has seen, so
//     every word has one writer and no read-modify-write is shared with the thread.
//   - Ring: one handler pushes, the thread pops. Push never blocks: into a full ring it
//     refuses the item and counts the refusal (Refused); Pop reports an empty ring.
//
// Why no sync/atomic: ARMv6-M (Cortex-M0, the micro:bit and the RP2040) has no
// LDREX/STREX and RV32IMC no A extension, so TinyGo lowers sync/atomic there to calls
// that mask interrupts. With one writer per word, aligned word loads and stores are
// enough (single-copy atomic: ARM DDI 0403E A3.5.3, DDI 0419 A3.5.3; RISC-V RVWMO). All
// shared words are runtime/volatile registers, so the compiler keeps each access and
// their order; the barrier orders the item's store before the index store that publishes
// it, and the item's load before the index store that frees its slot, for the core:
// DMB on Cortex-M (ARMv6-M has it too, DDI 0419 A6.7.21), FENCE RW,RW on RISC-V.
//
// Give each producing handler its own Ring; several handlers may Set one Flag.
package handoff

import (
	"runtime/volatile"
	"unsafe"
)

// Flag is an event flag: Set in an interrupt, Take in the thread. The zero value is a
// clear flag.
type Flag struct {
	raised volatile.Register32 // written by the interrupt(s) only
	taken  volatile.Register32 // written by the thread only
}

// Set raises the flag (interrupt side). Two handlers at different priorities may race
// on the increment; either result differs from what the thread has taken (the thread
// cannot run in between), so the event is seen either way.
func (f *Flag) Set() {
	f.raised.Set(f.raised.Get() + 1)
	barrier()
}

// Take reports whether the flag was raised since the last Take, and clears it (thread
// side).
func (f *Flag) Take() bool {
	raised := f.raised.Get()
	if raised == f.taken.Get() {
		return false
	}
	f.taken.Set(raised)
	barrier()
	return true
}

// Ring is a single-producer/single-consumer ring over storage the caller owns.
// Construct it with NewRing; the zero value is an empty ring of no capacity that
// refuses every push.
type Ring struct {
	head    volatile.Register32 // next slot to fill: written by the producer only
	tail    volatile.Register32 // next slot to read: written by the consumer only
	refused volatile.Register32 // pushes refused because the ring was full (producer)
	mask    uint32              // capacity - 1
	slots   *volatile.Register32
}

// NewRing is a ring over storage, whose length (the capacity) must be a power of two,
// at least 2. It panics otherwise: call it before interrupts start (a package-level
// var is evaluated at build time by TinyGo).
func NewRing(storage []volatile.Register32) Ring {
	n := uint32(len(storage))
	if n < 2 || n&(n-1) != 0 {
		panic("handoff: the ring's capacity must be a power of two, at least 2")
	}
	return Ring{mask: n - 1, slots: &storage[0]}
}

// slot is the word for index i, without a bounds check (i&mask < capacity by
// construction, so the check could never fail and would only add a panic path).
func (r *Ring) slot(i uint32) *volatile.Register32 {
	return (*volatile.Register32)(unsafe.Add(unsafe.Pointer(r.slots), uintptr(i&r.mask)*4))
}

// Push adds item (interrupt side). It returns false, and counts the refusal, when the
// ring is full.
func (r *Ring) Push(item uint32) bool {
	head := r.head.Get()
	if r.slots == nil || head-r.tail.Get() > r.mask { // head - tail == capacity: full
		r.refused.Set(r.refused.Get() + 1)
		return false
	}
	r.slot(head).Set(item)
	barrier() // the item is stored before it is published
	r.head.Set(head + 1)
	return true
}

// Pop takes the oldest item (thread side); ok is false when the ring is empty.
func (r *Ring) Pop() (item uint32, ok bool) {
	tail := r.tail.Get()
	if r.head.Get() == tail {
		return 0, false
	}
	barrier() // the index is read before the item
	item = r.slot(tail).Get()
	barrier() // the item is read before its slot is freed
	r.tail.Set(tail + 1)
	return item, true
}

// Len is the number of items waiting (a snapshot: the producer may add more at once).
func (r *Ring) Len() uint32 {
	return r.head.Get() - r.tail.Get()
}

// Refused is the number of pushes refused because the ring was full.
func (r *Ring) Refused() uint32 {
	return r.refused.Get()
}
