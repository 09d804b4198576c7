//go:build stm32f4

package main

import (
	"device/stm32"
	"runtime/interrupt"
)

// USART3: TinyGo's stm32f4disco board keeps USART2 for its own console (println).
func setupUART() {
	stm32.RCC.APB1ENR.SetBits(stm32.RCC_APB1ENR_USART3EN)
	stm32.USART3.CR1.SetBits(stm32.USART_CR1_UE | stm32.USART_CR1_RE | stm32.USART_CR1_RXNEIE)
	uart := interrupt.New(stm32.IRQ_USART3, handleUART)
	uart.SetPriority(0xc0)
	uart.Enable()
}

// The F4's USART has one data register, DR (RM0090 30.6.2); reading it clears RXNE.
func readByte() byte {
	return byte(stm32.USART3.DR.Get())
}
