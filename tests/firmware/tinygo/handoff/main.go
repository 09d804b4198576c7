// Hand-off stress with fwharden's Go package: a fast timer interrupt pushes sequence
// numbers 0..N-1 into ring fast; a second timer interrupt of higher priority (it preempts
// the fast one) pushes its own sequence into ring slow and sets a flag. main pops both
// while they fill, and now and then stalls so the rings overflow. At the end every item
// arrived at most once and in order, and the items that never arrived are exactly the
// refusals the ring counted.
package main

import (
	"runtime/volatile"

	"fwharden/handoff"
)

const n = 20000

var (
	fastSlots [16]volatile.Register32
	slowSlots [8]volatile.Register32
	fast      = handoff.NewRing(fastSlots[:])
	slow      = handoff.NewRing(slowSlots[:])
	slowFlag  handoff.Flag

	fastSent   volatile.Register32 // written by the fast handler only
	slowSent   volatile.Register32 // written by the second handler only
	fastActive volatile.Register32 // 1 while the fast handler runs
	nested     volatile.Register32 // second handler entered inside the fast one
	done       volatile.Register32
)

func fastHandler() {
	fastActive.Set(1)
	ackFast()
	seq := fastSent.Get()
	if seq < n {
		fast.Push(seq)
		fastSent.Set(seq + 1)
	} else {
		stopFast()
	}
	fastActive.Set(0)
}

func slowHandler() {
	ackSlow()
	if fastActive.Get() != 0 {
		nested.Set(nested.Get() + 1)
	}
	if done.Get() != 0 {
		stopSlow()
		return
	}
	seq := slowSent.Get()
	slow.Push(seq)
	slowSent.Set(seq + 1)
	slowFlag.Set()
}

type check struct {
	got, bad, next uint32
}

func (c *check) take(r *handoff.Ring) {
	for {
		item, ok := r.Pop()
		if !ok {
			return
		}
		if item < c.next {
			c.bad++ // seen before, or out of order
		}
		c.next = item + 1
		c.got++
	}
}

func report(name string, c *check, sent, refused uint32) {
	println("handoff:", name, "sent="+itoa(sent), "got="+itoa(c.got), "refused="+itoa(refused),
		"bad="+itoa(c.bad))
}

// itoa without strconv (no allocation beyond the string the caller prints).
func itoa(v uint32) string {
	var buf [10]byte
	i := len(buf)
	for {
		i--
		buf[i] = byte('0' + v%10)
		v /= 10
		if v == 0 {
			break
		}
	}
	return string(buf[i:])
}

var spin volatile.Register32

func main() {
	var f, s check
	flags, rounds := uint32(0), uint32(0)
	start()
	for fastSent.Get() < n {
		f.take(&fast)
		s.take(&slow)
		if slowFlag.Take() {
			flags++
		}
		rounds++
		if rounds%4096 == 0 {
			for spin.Set(0); spin.Get() < 20000; spin.Set(spin.Get() + 1) {
			} // stall: let the rings fill and refuse
		}
	}
	done.Set(1)
	stopFast()
	stopSlow()
	f.take(&fast)
	s.take(&slow)
	if slowFlag.Take() {
		flags++
	}
	again := uint32(0)
	if slowFlag.Take() { // nothing raised since: false
		again = 1
	}
	report("fast", &f, fastSent.Get(), fast.Refused())
	report("slow", &s, slowSent.Get(), slow.Refused())
	println("handoff: flags="+itoa(flags), "again="+itoa(again), "nested="+itoa(nested.Get()))
}
