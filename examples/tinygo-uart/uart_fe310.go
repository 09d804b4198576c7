//go:build fe310

package main

import (
	"device/sifive"
	"runtime/interrupt"
)

// UART1: TinyGo's hifive1b board keeps UART0 for its own console (println) and its own
// receive interrupt.
func setupUART() {
	sifive.UART1.RXCTRL.Set(sifive.UART_RXCTRL_ENABLE)
	sifive.UART1.IE.Set(sifive.UART_IE_RXWM_Msk)
	uart := interrupt.New(sifive.IRQ_UART1, handleUART)
	uart.SetPriority(5)
	uart.Enable()
}

// The FE310's UART returns the byte in RXDATA bits 7:0 (FE310-G002 manual 18.7).
func readByte() byte {
	return byte(sifive.UART1.RXDATA.Get())
}
