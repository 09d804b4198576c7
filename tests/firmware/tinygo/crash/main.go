package main

import "unsafe"

//go:noinline
func poke(p uintptr) {
	*(*uint32)(unsafe.Pointer(p)) = 1
}

func main() {
	println("about to fault")
	poke(0x7ffffffc)
}
