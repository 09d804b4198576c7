/* The interrupt demo: two interrupt sources, one preempting the other. */
#ifndef DEMO_H
#define DEMO_H

#include <stdint.h>

/* Counters written by the handlers, read by main(). */
extern volatile uint32_t demo_low_count;
extern volatile uint32_t demo_high_count;
extern volatile uint32_t demo_nested_count;

/* Board-specific: configure the two interrupt sources (low and high priority). */
void demo_irq_setup(void);
/* Board-specific: make the low-priority interrupt pending. */
void demo_trigger_low(void);
/* Board-specific: make the high-priority interrupt pending (called from the low handler). */
void demo_trigger_high(void);

/* Shared handler bodies. */
void demo_low_handler(void);
void demo_high_handler(void);

#endif
