// UART receive on an interrupt, the way an interrupt handler must be written in TinyGo:
// the handler only moves a byte into a ring buffer; main does everything else.
// The UART and its registers differ per chip: uart_stm32f4.go and uart_fe310.go.
package main

func main() {
	setupUART()
	println("tinygo-uart: ready")
	for {
		drain()
	}
}
