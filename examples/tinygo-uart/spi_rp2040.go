//go:build rp2040

package main

import (
	"device/rp"
	"runtime/interrupt"
)

// SPI1, not a UART: TinyGo's rp2040 machine package installs its own handlers for both
// UARTs (machine_rp2040_gpio.go's init calls interrupt.New for UART0 and UART1), and a
// second interrupt.New for the same line does not compile. SPI1 (an ARM PL022) receives
// bytes too, and TinyGo's SPI does not use its interrupt.
func setupUART() {
	// Take SPI1 out of reset and wait until it is ready (RP2040 datasheet 2.14.3).
	rp.RESETS.RESET.ClearBits(rp.RESETS_RESET_SPI1)
	for !rp.RESETS.RESET_DONE.HasBits(rp.RESETS_RESET_SPI1) {
	}
	rp.SPI1.SSPIMSC.Set(rp.SPI0_SSPIMSC_RXIM) // receive FIFO half full (datasheet 4.4.4)
	rp.SPI1.SSPCR1.SetBits(rp.SPI0_SSPCR1_SSE)
	spi := interrupt.New(rp.IRQ_SPI1_IRQ, handleUART)
	spi.SetPriority(0xc0)
	spi.Enable()
}

// The PL022 returns the received frame in SSPDR; reading it pops the receive FIFO.
func readByte() byte {
	return byte(rp.SPI1.SSPDR.Get())
}
