// UART receive on an interrupt, the way an interrupt handler must be written in TinyGo:
// the handler only moves a byte into a ring buffer; main does everything else.
package main

import (
	"device/stm32"
	"runtime/interrupt"
)

func main() {
	uart := interrupt.New(stm32.IRQ_USART3, handleUART)
	uart.SetPriority(0xc0)
	uart.Enable()
	for {
		drain()
	}
}
