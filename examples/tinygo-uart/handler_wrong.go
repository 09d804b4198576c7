//go:build wrong

package main

import (
	"runtime/interrupt"
)

// The same handler written the way Go code elsewhere would be: every line of it is
// wrong in an interrupt. Build it with `scons tags=wrong` to see the report.
var (
	line  []byte
	lines = make(chan []byte, 4)
)

func handleUART(interrupt.Interrupt) {
	b := readByte()
	line = append(line, b) // allocates: "heap alloc in interrupt"
	if b == '\n' {
		println("line:", string(line)) // prints, and string() allocates
		lines <- line                  // a channel send can block
		go process(line)               // starts a goroutine
		line = nil
	}
}

func drain() {
	for l := range lines {
		process(l)
	}
}

func process(l []byte) {
	_ = l
}
