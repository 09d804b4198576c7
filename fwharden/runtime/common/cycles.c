/* Interrupt duration instrumentation (`[runtime] irq_cycles = true`, off by default).
 *
 * Every timed handler runs between fwh_irq_cycles_begin and fwh_irq_cycles_end: on
 * Cortex-M the generated vector table points at one small wrapper per handler
 * (gen/fwh_vectors.c), on RISC-V fwh_trap_dispatch brackets the call. The slot of a
 * handler is its vector table index (ARM: the exception number; RISC-V: the cause), and
 * holds the largest number of cycles one run of it took, *without* the cycles of timed
 * handlers that preempted it (each end adds its total to the preempted run's count of
 * "cycles not mine"). The bookkeeping runs with interrupts masked, so a preemption lands
 * before or after it, never inside.
 *
 * The counter is found at reset (fwh_irq_cycles_init) and its kind kept in
 * fwh_irq_cycles_counter, which the stack map points at for debuggers:
 *   Cortex-M3/M4/M7/M33 (ARMv7-M, ARMv8-M Mainline): DWT_CYCCNT, used only when the ROM
 *     table lists a DWT (ARMv7-M ARM DDI 0403E C1.2), DWT_CTRL.NOCYCCNT is clear (C1.8.7)
 *     and CYCCNTENA reads back as set after TRCENA (DEMCR, C1.6.5) and CYCCNTENA are
 *     written. QEMU 7.2's mps2 boards read the whole range as zero: no counter.
 *   ARMv6-M and ARMv8-M Baseline: no CYCCNT (DDI 0419E C1.8: the ARMv6-M DWT has no cycle
 *     counter); compiled out, the kind reads FWH_CYCLES_NONE.
 *   RISC-V: mcycle (CSR 0xB00, privileged spec 3.1.11), when it advances between two
 *     reads. Nuclei cores (ECLIC) may start with it stopped: mcountinhibit (CSR 0x320)
 *     bit CY is cleared first, as Nuclei's own start-up does; other cores are not sent
 *     that CSR (priv 1.10 cores such as the FE310 have none: the write would trap).
 *     The ESP32-C3 has no standard mcycle (its counters are custom CSRs): compiled out.
 * Without a counter nothing is timed and every slot stays 0.
 */
#include <stdint.h>

#include "../fwharden.h"

uint32_t fwh_irq_cycles_counter; /* FWH_CYCLES_*: which counter the slots count */

#if defined(FWH_IRQ_CYCLES)

#if defined(__ARM_ARCH_7M__) || defined(__ARM_ARCH_7EM__) || defined(__ARM_ARCH_8M_MAIN__)
#define FWH_CYCLES_HAVE_DWT 1
#elif defined(__riscv) && !defined(FWH_IRQ_INTMATRIX)
#define FWH_CYCLES_HAVE_MCYCLE 1
#endif

/* One slot per vector table entry; defined with the table (gen/fwh_vectors.c). */
extern uint32_t fwh_irq_cycles_max[];
extern const uint32_t fwh_irq_cycles_slots;

#if defined(FWH_CYCLES_HAVE_DWT) || defined(FWH_CYCLES_HAVE_MCYCLE)
/* Cycles the timed handlers that preempted the running one took (all of them, nested
 * ones included); thread context's count is never read. */
static uint32_t not_mine;
#endif

#if defined(FWH_CYCLES_HAVE_DWT)
#define DEMCR (*(volatile uint32_t *)0xE000EDFCu)
#define DEMCR_TRCENA (1u << 24)
#define DWT_BASE 0xE0001000u
#define DWT_CTRL (*(volatile uint32_t *)0xE0001000u)
#define DWT_CTRL_CYCCNTENA (1u << 0)
#define DWT_CTRL_NOCYCCNT (1u << 25)
#define DWT_CYCCNT (*(volatile uint32_t *)0xE0001004u)
/* CoreSight lock access (Cortex-M7: software writes to the DWT are ignored until it is
 * unlocked with this key; a core without the lock ignores the write). */
#define DWT_LAR (*(volatile uint32_t *)0xE0001FB0u)
#define CORESIGHT_UNLOCK 0xC5ACCE55u
#define ROM_TABLE 0xE00FF000u

/* Whether the PPB ROM table names a component at the DWT's address: each entry is an
 * offset from the table (bits 31:12, two's complement) with bit 0 = present; a zero
 * entry ends the table (DDI 0403E C1.2.1). A core with no ROM table reads zeros here. */
static int rom_table_lists_dwt(void)
{
    const volatile uint32_t *entry = (const volatile uint32_t *)ROM_TABLE;
    for (uint32_t i = 0; i < 32u; ++i) {
        uint32_t value = entry[i];
        if (value == 0u) {
            return 0;
        }
        if ((value & 1u) != 0u && ROM_TABLE + (value & 0xFFFFF000u) == DWT_BASE) {
            return 1;
        }
    }
    return 0;
}

static inline uint32_t now(void)
{
    return DWT_CYCCNT;
}

static uint32_t find_counter(void)
{
    if (!rom_table_lists_dwt()) {
        return FWH_CYCLES_NONE;
    }
    DEMCR |= DEMCR_TRCENA;
    __asm__ volatile("dsb\n isb" ::: "memory");
    if ((DWT_CTRL & DWT_CTRL_NOCYCCNT) != 0u) {
        return FWH_CYCLES_NONE;
    }
    DWT_LAR = CORESIGHT_UNLOCK;
    DWT_CYCCNT = 0u;
    DWT_CTRL |= DWT_CTRL_CYCCNTENA;
    return (DWT_CTRL & DWT_CTRL_CYCCNTENA) != 0u ? FWH_CYCLES_DWT : FWH_CYCLES_NONE;
}

static inline uint32_t mask_interrupts(void)
{
    uint32_t primask;
    __asm__ volatile("mrs %0, primask\n cpsid i" : "=r"(primask) :: "memory");
    return primask;
}

static inline void restore_interrupts(uint32_t primask)
{
    __asm__ volatile("msr primask, %0" :: "r"(primask) : "memory");
}

#elif defined(FWH_CYCLES_HAVE_MCYCLE)

static inline uint32_t now(void)
{
    uint32_t cycles;
    __asm__ volatile("csrr %0, mcycle" : "=r"(cycles));
    return cycles;
}

static uint32_t find_counter(void)
{
#if defined(FWH_IRQ_ECLIC)
    __asm__ volatile("csrci 0x320, 1" ::: "memory");   /* mcountinhibit.CY = 0 */
#endif
    uint32_t first = now();
    for (volatile uint32_t spin = 0; spin < 8u; ++spin) {
    }
    return now() != first ? FWH_CYCLES_MCYCLE : FWH_CYCLES_NONE;
}

/* fwharden's trap entry runs handlers with mstatus.MIE clear; kept for a project that
 * enables nesting itself. */
static inline uint32_t mask_interrupts(void)
{
    uint32_t mstatus;
    __asm__ volatile("csrrci %0, mstatus, 8" : "=r"(mstatus) :: "memory");
    return mstatus & 8u;
}

static inline void restore_interrupts(uint32_t mie)
{
    if (mie != 0u) {
        __asm__ volatile("csrsi mstatus, 8" ::: "memory");
    }
}

#endif

void fwh_irq_cycles_init(void)
{
#if defined(FWH_CYCLES_HAVE_DWT) || defined(FWH_CYCLES_HAVE_MCYCLE)
    fwh_irq_cycles_counter = find_counter();
#else
    fwh_irq_cycles_counter = FWH_CYCLES_NONE;
#endif
}

void fwh_irq_cycles_begin(struct fwh_irq_cycles_run *run)
{
#if defined(FWH_CYCLES_HAVE_DWT) || defined(FWH_CYCLES_HAVE_MCYCLE)
    if (fwh_irq_cycles_counter == FWH_CYCLES_NONE) {
        return;
    }
    uint32_t saved = mask_interrupts();
    run->outer_not_mine = not_mine;
    not_mine = 0u;
    run->start = now();
    restore_interrupts(saved);
#else
    (void)run;
#endif
}

void fwh_irq_cycles_end(uint32_t slot, const struct fwh_irq_cycles_run *run)
{
#if defined(FWH_CYCLES_HAVE_DWT) || defined(FWH_CYCLES_HAVE_MCYCLE)
    if (fwh_irq_cycles_counter == FWH_CYCLES_NONE) {
        return;
    }
    uint32_t saved = mask_interrupts();
    uint32_t total = now() - run->start;
    uint32_t own = total - not_mine;
    if (slot < fwh_irq_cycles_slots && own > fwh_irq_cycles_max[slot]) {
        fwh_irq_cycles_max[slot] = own;
    }
    not_mine = run->outer_not_mine + total;
    restore_interrupts(saved);
#else
    (void)slot;
    (void)run;
#endif
}

uint32_t fwh_irq_cycles(uint32_t slot)
{
    return slot < fwh_irq_cycles_slots ? fwh_irq_cycles_max[slot] : 0u;
}

uint32_t fwh_irq_cycles_slot_count(void)
{
    return fwh_irq_cycles_slots;
}

#else /* built without irq_cycles: the API answers "nothing timed" */

void fwh_irq_cycles_init(void)
{
}

uint32_t fwh_irq_cycles(uint32_t slot)
{
    (void)slot;
    return 0u;
}

uint32_t fwh_irq_cycles_slot_count(void)
{
    return 0u;
}

#endif

/* `irq-cycles counter=dwt 15=812 24=1377`: the counter, then slot=maximum for every slot
 * that has run; printed next to the high-water marks. */
void fwh_irq_cycles_print(void)
{
    static const char *const names[] = {"none", "dwt", "mcycle"};
    uint32_t counter = fwh_irq_cycles_counter < 3u ? fwh_irq_cycles_counter : 0u;
    fwh_puts("irq-cycles counter=");
    fwh_puts(names[counter]);
    for (uint32_t slot = 0; slot < fwh_irq_cycles_slot_count(); ++slot) {
        uint32_t cycles = fwh_irq_cycles(slot);
        if (cycles != 0u) {
            fwh_puts(" ");
            fwh_put_dec(slot);
            fwh_puts("=");
            fwh_put_dec(cycles);
        }
    }
    fwh_puts("\n");
}
