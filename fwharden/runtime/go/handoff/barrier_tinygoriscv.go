//go:build tinygo.riscv

// (Not barrier_riscv.go: Go reads a _riscv file name suffix as GOARCH=riscv, and TinyGo
// builds RISC-V with GOARCH=arm; the build tag selects the file.)

package handoff

import "device/riscv"

// barrier orders memory accesses for the core: FENCE RW,RW (base ISA, so RV32IMC has
// it).
func barrier() {
	riscv.Asm("fence rw, rw")
}
