//go:build cortexm

package handoff

import "device/arm"

// barrier orders memory accesses for the core: DMB (ARMv6-M DDI 0419 A6.7.21, ARMv7-M
// DDI 0403E A7.7.33).
func barrier() {
	arm.Asm("dmb")
}
