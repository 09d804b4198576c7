// A timer callback that allocates: TinyGo's TIM2 handler calls it through a func value, so
// the verifier must not cut that call (SetWraparoundInterrupt registers it).
package main

import "machine"

var log []uint32

//go:noinline
func onTick() {
	log = append(log, uint32(len(log))) // grows: "heap alloc in interrupt"
}

func main() {
	machine.TIM2.Configure(machine.PWMConfig{Period: 1000000})
	machine.TIM2.SetWraparoundInterrupt(onTick)
	for {
	}
}
