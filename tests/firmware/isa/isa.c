/* ISA/ABI fixture (issue 17 item 3): the same source built for one core and verified
 * against another. Floating point in both precisions, DSP arithmetic where the compiler
 * offers it (ACLE __ARM_FEATURE_DSP), atomics on RISC-V; a vector table so the verifier
 * finds its roots. */
#include <stdint.h>
#if defined(__ARM_FEATURE_DSP)
#include <arm_acle.h>
#endif

volatile double g_d = 1.5;
volatile float g_f = 2.5f;
volatile int32_t g_i = 3;
volatile int32_t g_count;

__attribute__((noinline)) double scale_d(double a, double b) { return a * b + g_d; }
__attribute__((noinline)) float scale_f(float a, float b) { return a * b + g_f; }

__attribute__((noinline)) int32_t mix(int32_t a, int32_t b) {
#if defined(__ARM_FEATURE_DSP)
    return (int32_t)__qadd8((uint32_t)a, (uint32_t)b) + (int32_t)__smlad((uint32_t)a, (uint32_t)b, 1u);
#else
    return a + b;
#endif
}

__attribute__((noinline)) int32_t bump(volatile int32_t *p) {
#if defined(__riscv_atomic) || defined(__ARM_ARCH_7M__) || defined(__ARM_ARCH_7EM__)
    return __atomic_fetch_add(p, 1, __ATOMIC_RELAXED);
#else
    return (*p)++;
#endif
}

int main(void) {
    for (;;) {
        g_d = scale_d(g_d, 2.0);
        g_f = scale_f(g_f, 3.0f);
        g_i = mix(g_i, 7);
        bump(&g_count);
    }
}

void Reset_Handler(void) { main(); }
void Default_Handler(void) { for (;;) {} }

#if defined(__arm__)
extern uint32_t __stack_top;
__attribute__((section(".isr_vector"), used))
const void *const g_pfnVectors[16] = {
    &__stack_top, (void *)Reset_Handler, (void *)Default_Handler, (void *)Default_Handler,
};
#else
__attribute__((naked, section(".text.entry"))) void _start(void) {
    __asm__ volatile("la sp, __stack_top\n j Reset_Handler");
}
#endif
