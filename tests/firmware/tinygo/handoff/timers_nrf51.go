//go:build nrf51

package main

import (
	"device/nrf"
	"runtime/interrupt"
)

// nRF51 TIMER1 (fast) and TIMER2 (second), 16 MHz base clock, compare 0 with the
// COMPARE0_CLEAR short (nRF51 Reference Manual v3.0 chapter 18). TinyGo's runtime uses
// RTC1, not these. TIMER2 gets the higher NVIC priority (lower number): it preempts
// TIMER1. Cortex-M0 implements the top 2 priority bits.
func start() {
	setup(nrf.TIMER1, 800)  // about 20 kHz
	setup(nrf.TIMER2, 6277) // about 2.5 kHz, coprime to the fast period
	t1 := interrupt.New(nrf.IRQ_TIMER1, func(interrupt.Interrupt) { fastHandler() })
	t1.SetPriority(0xc0)
	t1.Enable()
	t2 := interrupt.New(nrf.IRQ_TIMER2, func(interrupt.Interrupt) { slowHandler() })
	t2.SetPriority(0x40)
	t2.Enable()
	nrf.TIMER1.TASKS_START.Set(1)
	nrf.TIMER2.TASKS_START.Set(1)
}

func setup(t *nrf.TIMER_Type, period uint32) {
	t.MODE.Set(nrf.TIMER_MODE_MODE_Timer)
	t.BITMODE.Set(nrf.TIMER_BITMODE_BITMODE_32Bit)
	t.PRESCALER.Set(0)
	t.CC[0].Set(period)
	t.SHORTS.Set(nrf.TIMER_SHORTS_COMPARE0_CLEAR)
	t.INTENSET.Set(nrf.TIMER_INTENSET_COMPARE0)
}

func ackFast()  { nrf.TIMER1.EVENTS_COMPARE[0].Set(0) }
func ackSlow()  { nrf.TIMER2.EVENTS_COMPARE[0].Set(0) }
func stopFast() { nrf.TIMER1.TASKS_STOP.Set(1) }
func stopSlow() { nrf.TIMER2.TASKS_STOP.Set(1) }
