/* isr-data-race fixture (issue 17 item 1): racy and race-free pairs, one pair of global
 * variables per rule. Every variable's name says its declared truth: `racy_*` must be a
 * finding, `safe_*` must not (tests/e2e/test_races.py holds the table with the reason per
 * case, checked against objdump at -O0/-O2/-Os).
 *
 * Priorities (the test passes them as [harden.priorities]): HI_IRQHandler 1,
 * LO_IRQHandler 3, EQA_IRQHandler and EQB_IRQHandler 2. On RISC-V the trap entry clears
 * MIE (privileged spec 3.1.6.1), so handlers do not nest.
 */
#include <stdint.h>

typedef struct { uint32_t a, b; } pair_t;

volatile uint32_t racy_rmw, safe_rmw_cs, safe_rmw_call;
volatile uint64_t racy_wide, safe_wide_primask;
volatile pair_t racy_pair, safe_pair_basepri, racy_pair_weak;
uint32_t safe_atomic, safe_ldrex;
volatile uint32_t safe_word;
volatile uint32_t nest_counter, safe_equal;
volatile uint32_t racy_arg, safe_arg;
volatile uint32_t racy_lo_counter;

volatile uint32_t sink;
volatile uint64_t sink64;
volatile pair_t sink_pair;

/* A read-modify-write through a pointer: the caller passes the global's address. */
__attribute__((noinline)) void bump(volatile uint32_t *p) { *p = *p + 1u; }

#if defined(__arm__)
static inline void irq_disable(void) { __asm__ volatile("cpsid i" ::: "memory"); }
static inline void irq_enable(void) { __asm__ volatile("cpsie i" ::: "memory"); }
static inline uint32_t primask_save(void) {
    uint32_t m;
    __asm__ volatile("mrs %0, primask" : "=r"(m));
    __asm__ volatile("cpsid i" ::: "memory");
    return m;
}
static inline void primask_restore(uint32_t m) { __asm__ volatile("msr primask, %0" :: "r"(m) : "memory"); }
static inline void basepri_set(uint32_t v) { __asm__ volatile("msr basepri, %0" :: "r"(v) : "memory"); }
/* Called (not inlined) forms, like CMSIS's __disable_irq in a library built -O0. */
__attribute__((noinline)) void lock_irqs(void) { irq_disable(); }
__attribute__((noinline)) void unlock_irqs(void) { irq_enable(); }
#define PRIO_SHIFT 5   /* 3 priority bits (mps2: __NVIC_PRIO_BITS 3): BASEPRI = prio << 5 */
#else
static inline void irq_disable(void) { __asm__ volatile("csrci mstatus, 8" ::: "memory"); }
static inline void irq_enable(void) { __asm__ volatile("csrsi mstatus, 8" ::: "memory"); }
static inline uint32_t primask_save(void) {
    uint32_t m;
    __asm__ volatile("csrrci %0, mstatus, 8" : "=r"(m) :: "memory");
    return m;
}
static inline void primask_restore(uint32_t m) { __asm__ volatile("csrw mstatus, %0" :: "r"(m) : "memory"); }
__attribute__((noinline)) void lock_irqs(void) { irq_disable(); }
__attribute__((noinline)) void unlock_irqs(void) { irq_enable(); }
#endif

int main(void) {
    for (;;) {
        racy_rmw++;                                  /* RMW, HI writes it */
        irq_disable(); safe_rmw_cs++; irq_enable();  /* the same inside cpsid/cpsie */
        lock_irqs(); safe_rmw_call++; unlock_irqs(); /* through called helpers */
        sink64 = racy_wide;                          /* two word loads of a 64-bit value */
        { uint32_t m = primask_save(); sink64 = safe_wide_primask; primask_restore(m); }
        sink_pair = racy_pair;                       /* struct copy: two words */
#if defined(__arm__)
        basepri_set(1u << PRIO_SHIFT);               /* masks priority 1 and below: HI too */
        sink_pair = safe_pair_basepri;
        basepri_set(0);
        basepri_set(2u << PRIO_SHIFT);               /* masks 2..7: HI (1) still preempts */
        sink_pair = racy_pair_weak;
        basepri_set(0);
        { uint32_t old, fail;                        /* hand-written LDREX/STREX loop */
          do {
              __asm__ volatile("ldrex %0, [%1]" : "=r"(old) : "r"(&safe_ldrex) : "memory");
              __asm__ volatile("strex %0, %2, [%1]" : "=&r"(fail) : "r"(&safe_ldrex), "r"(old + 1u) : "memory");
          } while (fail);
        }
#else
        sink_pair = racy_pair_weak;                  /* no BASEPRI on RISC-V: plain copy */
        __atomic_fetch_add(&safe_ldrex, 1u, __ATOMIC_RELAXED);
#endif
        __atomic_fetch_add(&safe_atomic, 1u, __ATOMIC_SEQ_CST);
        sink = safe_word;                            /* one aligned word load */
        bump(&racy_arg);                             /* RMW through the argument */
        irq_disable(); bump(&safe_arg); irq_enable();
    }
}

/* Interrupt side: every shared variable is written here. */
void HI_IRQHandler(void) {
    racy_rmw = 1u; safe_rmw_cs = 1u; safe_rmw_call = 1u;
    racy_wide = 0x100000001ull; safe_wide_primask = 0x100000001ull;
    racy_pair.a = 1u; racy_pair.b = 1u;
    safe_pair_basepri.a = 1u; safe_pair_basepri.b = 1u;
    racy_pair_weak.a = 1u; racy_pair_weak.b = 1u;
    __atomic_store_n(&safe_atomic, 0u, __ATOMIC_RELAXED);
    __atomic_store_n(&safe_ldrex, 0u, __ATOMIC_RELAXED);
    safe_word = 7u; racy_arg = 0u; safe_arg = 0u;
    nest_counter = 0u;
}

/* Priority 3: HI (1) preempts it in the middle of its increment. */
void LO_IRQHandler(void) { nest_counter++; racy_lo_counter++; }
/* Equal priority 2: neither preempts the other. */
void EQA_IRQHandler(void) { safe_equal = 0u; }
void EQB_IRQHandler(void) { safe_equal++; }
void Reset_Handler(void) { main(); }
void Default_Handler(void) { for (;;) {} }

#if defined(__arm__)
extern uint32_t __stack_top;
__attribute__((section(".isr_vector"), used))
const void *const g_pfnVectors[16 + 4] = {
    &__stack_top, (void *)Reset_Handler, (void *)Default_Handler, (void *)Default_Handler,
    [4 ... 15] = (void *)Default_Handler,
    (void *)HI_IRQHandler, (void *)LO_IRQHandler, (void *)EQA_IRQHandler,
    (void *)EQB_IRQHandler,
};
#else
/* RISC-V: direct-mode trap entry (mtvec mode 0); the dispatcher calls the handler for the
 * interrupt cause. The hardware clears MIE on the trap, and nothing here sets it again. */
__attribute__((used)) void trap_dispatch(uint32_t cause) {
    switch (cause & 0xffu) {
    case 7: HI_IRQHandler(); break;
    case 11: LO_IRQHandler(); break;
    case 3: EQA_IRQHandler(); break;
    default: EQB_IRQHandler(); break;
    }
}
__attribute__((naked, aligned(4))) void trap_entry(void) {
    __asm__ volatile(
        "addi sp, sp, -64\n sw ra, 0(sp)\n sw t0, 4(sp)\n sw t1, 8(sp)\n sw t2, 12(sp)\n"
        "sw a0, 16(sp)\n sw a1, 20(sp)\n sw a2, 24(sp)\n sw a3, 28(sp)\n sw a4, 32(sp)\n"
        "sw a5, 36(sp)\n sw a6, 40(sp)\n sw a7, 44(sp)\n sw t3, 48(sp)\n sw t4, 52(sp)\n"
        "sw t5, 56(sp)\n sw t6, 60(sp)\n csrr a0, mcause\n call trap_dispatch\n"
        "lw ra, 0(sp)\n lw t0, 4(sp)\n lw t1, 8(sp)\n lw t2, 12(sp)\n lw a0, 16(sp)\n"
        "lw a1, 20(sp)\n lw a2, 24(sp)\n lw a3, 28(sp)\n lw a4, 32(sp)\n lw a5, 36(sp)\n"
        "lw a6, 40(sp)\n lw a7, 44(sp)\n lw t3, 48(sp)\n lw t4, 52(sp)\n lw t5, 56(sp)\n"
        "lw t6, 60(sp)\n addi sp, sp, 64\n mret");
}
__attribute__((naked, section(".text.entry"))) void _start(void) {
    __asm__ volatile("la sp, __stack_top\n la t0, trap_entry\n csrw mtvec, t0\n"
                     "csrsi mstatus, 8\n j Reset_Handler");
}
#endif
