/* Hand-off stress (issue 17 item 2). A fast timer interrupt pushes sequence numbers
 * 0..N-1 into ring `fast`; a second interrupt of higher priority (it preempts the fast
 * one, and is also pended from inside it) pushes its own sequence into ring `slow` and
 * sets a flag. main pops both rings while they fill, and now and then stalls so the rings
 * overflow. At the end: every ring item arrived at most once and in order, and the items
 * that never arrived are exactly the refusals the ring counted.
 *
 * Cortex-M (mps2): CMSDK TIMER0 (IRQ 8, 0x40000000) and TIMER1 (IRQ 9, 0x40001000);
 * registers CTRL 0x0 (bit 0 enable, bit 3 interrupt enable), RELOAD 0x8, INTCLEAR 0xC
 * (Arm CMSDK TRM DDI 0479C 4.3). TIMER1 gets a higher NVIC priority (lower number).
 * RISC-V (sifive-e): CLINT mtimecmp 0x02004000 / mtime 0x0200BFF8 for the fast interrupt,
 * msip 0x02000000 for the second; fwharden's RISC-V trap entry does not nest traps, so
 * there the second interrupt follows the fast one instead of preempting it. */
#include <stdint.h>

#include "fwharden.h"

#define N 20000u
#define SLOW_EVERY 7u           /* the fast handler pends the second one this often */

static volatile uint32_t fast_slots[16];
static volatile uint32_t slow_slots[8];
static fwh_ring_t fast = FWH_RING_INIT(fast_slots, 16);
static fwh_ring_t slow = FWH_RING_INIT(slow_slots, 8);
static fwh_flag_t slow_flag = FWH_FLAG_INIT;

static volatile uint32_t fast_sent;     /* written by the fast handler only */
static volatile uint32_t slow_sent;     /* written by the second handler only */
static volatile uint32_t fast_active;   /* 1 while the fast handler runs */
static volatile uint32_t nested;        /* second handler entered inside the fast one */
static volatile uint32_t done;

#if defined(FWH_ARCH_ARM)
#define TIMER0 ((volatile uint32_t *)0x40000000u)
#define TIMER1 ((volatile uint32_t *)0x40001000u)
#define NVIC_ISER (*(volatile uint32_t *)0xE000E100u)
#define NVIC_ISPR (*(volatile uint32_t *)0xE000E200u)
#define NVIC_IPR ((volatile uint8_t *)0xE000E400u)

static void start(void)
{
    NVIC_IPR[8] = 0x80u;                   /* fast: lower priority */
    NVIC_IPR[9] = 0x40u;                   /* second: preempts the fast one */
    TIMER0[2] = 1200u;                     /* RELOAD: about 20 kHz at 25 MHz */
    TIMER1[2] = 7919u;
    TIMER0[0] = 0x9u;
    TIMER1[0] = 0x9u;
    NVIC_ISER = (1u << 8) | (1u << 9);
    __asm__ volatile("cpsie i" ::: "memory");
}

static void stop_fast(void) { TIMER0[0] = 0u; }
static void stop_slow(void) { TIMER1[0] = 0u; }
static void ack_fast(void) { TIMER0[3] = 1u; }
static void ack_slow(void) { TIMER1[3] = 1u; }
static void pend_slow(void)
{
    NVIC_ISPR = 1u << 9;
    __asm__ volatile("dsb\n isb" ::: "memory");   /* taken here, inside the fast handler */
}
#define FAST_HANDLER TIMER0_IRQHandler
#define SLOW_HANDLER TIMER1_IRQHandler
#else
#define MSIP (*(volatile uint32_t *)0x02000000u)
#define MTIMECMP_LO (*(volatile uint32_t *)0x02004000u)
#define MTIMECMP_HI (*(volatile uint32_t *)0x02004004u)
#define MTIME_LO (*(volatile uint32_t *)0x0200BFF8u)
#define MTIME_HI (*(volatile uint32_t *)0x0200BFFCu)
#define PERIOD 500u                        /* 10 MHz timebase: 20 kHz */

static void set_compare(void)
{
    uint32_t hi, lo;
    do {
        hi = MTIME_HI;
        lo = MTIME_LO;
    } while (hi != MTIME_HI);
    uint64_t next = (((uint64_t)hi << 32) | lo) + PERIOD;
    /* No spurious match while the halves change (privileged spec 3.1.10). */
    MTIMECMP_HI = 0xFFFFFFFFu;
    MTIMECMP_LO = (uint32_t)next;
    MTIMECMP_HI = (uint32_t)(next >> 32);
}

static void start(void)
{
    set_compare();
    __asm__ volatile("csrs mie, %0" ::"r"((1u << 7) | (1u << 3)));
    __asm__ volatile("csrs mstatus, %0" ::"r"(1u << 3));
}

static void stop_fast(void)
{
    MTIMECMP_HI = 0xFFFFFFFFu;
    MTIMECMP_LO = 0xFFFFFFFFu;
}
static void stop_slow(void) {}
static void ack_fast(void) { set_compare(); }
static void ack_slow(void) { MSIP = 0u; }
static void pend_slow(void) { MSIP = 1u; }
#define FAST_HANDLER MachineTimer_Handler
#define SLOW_HANDLER MachineSoftware_Handler
#endif

void FAST_HANDLER(void)
{
    fast_active = 1u;
    ack_fast();
    uint32_t seq = fast_sent;
    if (seq < N) {
        if (seq % SLOW_EVERY == 0u) {
            pend_slow();
        }
        (void)fwh_ring_push(&fast, seq);
        fast_sent = seq + 1u;
    } else {
        stop_fast();
    }
    fast_active = 0u;
}

void SLOW_HANDLER(void)
{
    ack_slow();
    if (fast_active) {
        nested = nested + 1u;
    }
    if (done) {
        stop_slow();
        return;
    }
    uint32_t seq = slow_sent;
    (void)fwh_ring_push(&slow, seq);
    slow_sent = seq + 1u;
    fwh_flag_set(&slow_flag);
}

struct check {
    uint32_t got, dup_or_order, next;
};

static void take(fwh_ring_t *ring, struct check *c)
{
    uint32_t item;
    while (fwh_ring_pop(ring, &item)) {
        if (item < c->next) {
            c->dup_or_order++;             /* seen before, or out of order */
        }
        c->next = item + 1u;
        c->got++;
    }
}

static void report(const char *name, const struct check *c, uint32_t sent, uint32_t refused)
{
    fwh_puts(name);
    fwh_puts(" sent=");
    fwh_put_dec(sent);
    fwh_puts(" got=");
    fwh_put_dec(c->got);
    fwh_puts(" refused=");
    fwh_put_dec(refused);
    fwh_puts(" bad=");
    fwh_put_dec(c->dup_or_order);
    fwh_puts("\n");
}

int main(void)
{
    struct check f = {0u, 0u, 0u}, s = {0u, 0u, 0u};
    uint32_t flags = 0u, rounds = 0u;
    start();
    while (fast_sent < N) {
        take(&fast, &f);
        take(&slow, &s);
        flags += (uint32_t)fwh_flag_take(&slow_flag);
        if (++rounds % 4096u == 0u) {
            for (volatile uint32_t i = 0; i < 20000u; ++i) {
            }                              /* stall: let the rings fill and refuse */
        }
    }
    done = 1u;
    stop_fast();
    stop_slow();
    take(&fast, &f);
    take(&slow, &s);
    flags += (uint32_t)fwh_flag_take(&slow_flag);
    uint32_t last = (uint32_t)fwh_flag_take(&slow_flag);  /* nothing raised since: 0 */
    report("handoff: fast", &f, fast_sent, fast.refused);
    report("handoff: slow", &s, slow_sent, slow.refused);
    fwh_puts("handoff: flags=");
    fwh_put_dec(flags);
    fwh_puts(" again=");
    fwh_put_dec(last);
    fwh_puts(" nested=");
    fwh_put_dec(nested);
    fwh_puts("\n");
    int ok = f.got + fast.refused == fast_sent && s.got + slow.refused == slow_sent
             && f.dup_or_order == 0u && s.dup_or_order == 0u && last == 0u && flags > 0u;
    return ok ? 0 : 1;
}
