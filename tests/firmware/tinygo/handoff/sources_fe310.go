//go:build fe310

package main

import (
	"device/sifive"
	"runtime/interrupt"
)

// FE310: TinyGo's runtime owns the CLINT timer (runtime_fe310.go: its trap handler takes
// cause 7 for time.Sleep and clears MTIE), and QEMU's sifive_e models no PWM timer, so the
// fast interrupt is UART1's receive interrupt, which the test feeds from the host as fast
// as QEMU's UART takes bytes: one item per byte (FE310-G002 manual 18.7: RXDATA bit 31 is
// "FIFO empty"; IE.RXWM raises the interrupt while the FIFO holds more than RXCTRL.RXCNT
// bytes). The second interrupt is GPIO0's rising edge, pended from inside the fast handler
// by driving the pin high (chapter 17: PORT is the output value, RISE_IP is set on a rising input, cleared by
// writing 1). TinyGo's trap handler does not nest, so it runs after the fast one.
const pin = 1 << 0

func start() {
	sifive.GPIO0.PORT.ClearBits(pin)
	sifive.GPIO0.INPUT_EN.SetBits(pin)
	sifive.GPIO0.OUTPUT_EN.SetBits(pin)
	sifive.GPIO0.RISE_IP.Set(pin)
	sifive.GPIO0.RISE_IE.SetBits(pin)
	gpio := interrupt.New(sifive.IRQ_GPIO0, func(interrupt.Interrupt) { slowHandler() })
	gpio.SetPriority(6)
	gpio.Enable()
	sifive.UART1.RXCTRL.Set(sifive.UART_RXCTRL_ENABLE)
	sifive.UART1.IE.Set(sifive.UART_IE_RXWM_Msk)
	uart := interrupt.New(sifive.IRQ_UART1, func(interrupt.Interrupt) { uartHandler() })
	uart.SetPriority(5)
	uart.Enable()
}

// uartHandler: one fast item per received byte.
func uartHandler() {
	for sifive.UART1.RXDATA.Get()&sifive.UART_RXDATA_EMPTY == 0 {
		fastHandler()
		if fastSent.Get()%slowEvery == 0 {
			sifive.GPIO0.PORT.SetBits(pin) // pend the second interrupt
		}
	}
}

const slowEvery = 7

func ackFast() {}

func ackSlow() {
	sifive.GPIO0.PORT.ClearBits(pin)
	sifive.GPIO0.RISE_IP.Set(pin)
}

func stopFast() { sifive.UART1.IE.Set(0) }
func stopSlow() { sifive.GPIO0.RISE_IE.ClearBits(pin) }
