/* Extra scenarios for the every-rule SARIF test (tests/e2e/test_sarif.py), added to a
 * copy of tests/firmware/verify: each makes verify report one more rule kind.
 * SCB->VTOR is at 0xE000ED08 (ARM DDI 0403E B3.2.2). */
#include "scenarios.h"

#define VTOR (*(volatile unsigned *)0xE000ED08u)

volatile unsigned g_table;
volatile unsigned g_len;
volatile char g_sink;

/* dynamic-stack: a variable-length array moves SP by a run-time amount. */
void IRQ4_Handler(void)
{
    char buffer[g_len + 1u];
    buffer[g_len] = 1;
    g_sink = buffer[g_len];
}

/* vector-moved: VTOR gets an address the verifier cannot follow. */
void move_vectors(void)
{
    VTOR = g_table;
}

/* recursion with no bound in firmware.toml (walk has one there: a library-model note). */
__attribute__((noinline)) unsigned spin(unsigned n)
{
    unsigned result = n;
    if (n != 0u) {
        result += spin(n - 1u);
    }
    g_sink = (char)result;  /* a volatile store after the call: no loop for the compiler */
    return result;
}

void IRQ5_Handler(void)
{
    g_sink = (char)spin(g_len);
}
