//go:build !wrong

package main

import (
	"runtime/interrupt"
	"runtime/volatile"
)

// A ring buffer the interrupt fills and main drains: fixed size, no allocation, no lock.
var (
	rx   [64]byte
	head volatile.Register8
	tail uint8
)

func handleUART(interrupt.Interrupt) {
	b := readByte()
	h := head.Get()
	rx[h%64] = b
	head.Set(h + 1)
}

func drain() {
	for tail != head.Get() {
		process(rx[tail%64])
		tail++
	}
}

func process(b byte) {
	_ = b
}
