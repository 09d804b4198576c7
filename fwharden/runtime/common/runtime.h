/* Internal interface between the runtime's own files (not for firmware code). */
#ifndef FWHARDEN_RUNTIME_H
#define FWHARDEN_RUNTIME_H

#include <stdint.h>

#include "../fwharden.h"

uint32_t fwh_stack_count(void);
uint32_t fwh_watermark_pattern(void);
void fwh_paint_stacks(void);
uint32_t fwh_stack_of(uint32_t address);
uint32_t fwh_in_guard(uint32_t address);

/* Architecture part: guards (MPU / PMP) and fault priorities. */
void fwh_guards_init(void);
/* Paint, then arm the guards. Called once at reset, on the stack the reset code uses. */
void fwh_runtime_init(void);
/* Find the cycle counter for irq_cycles (cycles.c); a no-op when built without. */
void fwh_irq_cycles_init(void);

/* The FWH-FAULT line: `key=0x........` fields after a fixed prefix. */
void fwh_fault_field(const char *key, uint32_t value);
void fwh_fault_words(const char *key, uint32_t address, uint32_t count);

#endif
