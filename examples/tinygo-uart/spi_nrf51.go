//go:build nrf51

package main

import (
	"device/nrf"
	"runtime/interrupt"
)

// SPI1, not a UART: the nRF51822 has one UART, which TinyGo's console (println) and its
// own receive handler use (machine_nrf.go). SPI1 receives bytes too, and TinyGo's SPI
// does not use its interrupt. SPI1 and TWI1 share peripheral ID 4 (one address, one
// interrupt line: the vector is SPI1_TWI1_IRQHandler in Nordic's nrf51.svd).
func setupUART() {
	nrf.SPI1.INTENSET.Set(nrf.SPI_INTENSET_READY_Msk)
	nrf.SPI1.ENABLE.Set(nrf.SPI_ENABLE_ENABLE_Enabled)
	spi := interrupt.New(nrf.IRQ_SPI1_TWI1, handleUART)
	spi.SetPriority(0xc0)
	spi.Enable()
}

// READY says a byte is in RXD; reading RXD takes it, and the event is cleared by hand
// (nRF51 Series Reference Manual, SPI chapter).
func readByte() byte {
	nrf.SPI1.EVENTS_READY.Set(0)
	return byte(nrf.SPI1.RXD.Get())
}
