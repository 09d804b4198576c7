/* Console and exit for the runtime, as the board profile's [console] table says.
 *
 * Semihosting operations (Arm "Semihosting for AArch32 and AArch64", 2.0): SYS_WRITE0
 * (0x04) writes a string, SYS_EXIT_EXTENDED (0x20) with {ADP_Stopped_ApplicationExit,
 * status} carries a full exit status (plain SYS_EXIT only gives 0 or 1).
 * NOTE: a semihosting call without a debugger attached faults on real hardware, so the
 * build only uses it where the profile says so (QEMU boards, or a board with a probe).
 * UARTs are polled, transmit only, and assume the clock and pins are already set up by
 * the application (or, under QEMU, need no set-up):
 *   cmsdk:   Arm CMSDK APB UART: DATA +0x0, STATE +0x4 (bit 0 TX full), CTRL +0x8 (TX_EN),
 *            BAUDDIV +0x10 (>= 16) (Arm DDI 0479C, 4.3)
 *   sifive:  SiFive UART: txdata +0x0 (bit 31 full), txctrl +0x8 (bit 0 txen)
 *            (FE310-G002 manual, 18.4)
 *   stm32:   STM32 USART with ISR +0x1C (bit 7 TXE) and TDR +0x28 (RM0433, 48.7)
 *   stm32f4: STM32F4 USART with SR +0x0 (bit 7 TXE) and DR +0x4 (RM0090, 30.6)
 *   lpuart:  NXP LPUART with STAT +0x14 (bit 23 TDRE) and DATA +0x1C (IMXRT1064RM, 49.4)
 *   pl011:   Arm PrimeCell UART (PL011): DR +0x0, FR +0x18 (bit 5 TXFF) (Arm DDI 0183G,
 *            3.3); the Stellaris UARTs are PL011s (LM3S6965 datasheet, 12.5)
 *   esp32:   Espressif UART: FIFO +0x0, STATUS +0x1C (TXFIFO_CNT [25:16]) (ESP32-C3 TRM 26.5)
 */
#include <stdint.h>

#include "../fwharden.h"

#define SYS_WRITE0 0x04u
#define SYS_EXIT_EXTENDED 0x20u
#define ADP_STOPPED_APPLICATION_EXIT 0x20026u

#if defined(FWH_CONSOLE_SEMIHOSTING) || defined(FWH_EXIT_SEMIHOSTING)
static uint32_t semihost(uint32_t op, const void *arg)
{
#if defined(FWH_ARCH_ARM)
    register uint32_t r0 __asm__("r0") = op;
    register const void *r1 __asm__("r1") = arg;
    __asm__ volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
    return r0;
#else
    /* RISC-V semihosting: the three-instruction sequence must stay uncompressed. */
    register uint32_t a0 __asm__("a0") = op;
    register const void *a1 __asm__("a1") = arg;
    __asm__ volatile(".option push\n"
                     ".option norvc\n"
                     "slli x0, x0, 0x1f\n"
                     "ebreak\n"
                     "srai x0, x0, 7\n"
                     ".option pop\n"
                     : "+r"(a0) : "r"(a1) : "memory");
    return a0;
#endif
}
#endif

#if defined(FWH_CONSOLE_SETUP)
void fwh_console_setup(void);
#endif

#if defined(FWH_CONSOLE_UART_BASE)
#define UART_REG(offset) (*(volatile uint32_t *)(FWH_CONSOLE_UART_BASE + (offset)))

static void uart_putc(char c)
{
#if defined(FWH_CONSOLE_UART_CMSDK)
    static uint8_t ready;
    if (!ready) {
        UART_REG(0x10) = 16u;   /* BAUDDIV: the smallest legal divider */
        UART_REG(0x08) |= 1u;   /* CTRL.TX_EN */
        ready = 1u;
    }
    while (UART_REG(0x04) & 1u) {
    }
    UART_REG(0x00) = (uint8_t)c;
#elif defined(FWH_CONSOLE_UART_SIFIVE)
    UART_REG(0x08) |= 1u;       /* txctrl.txen */
    while (UART_REG(0x00) & 0x80000000u) {
    }
    UART_REG(0x00) = (uint8_t)c;
#elif defined(FWH_CONSOLE_UART_STM32)
    while ((UART_REG(0x1C) & 0x80u) == 0u) {
    }
    UART_REG(0x28) = (uint8_t)c;
#elif defined(FWH_CONSOLE_UART_STM32F4)
    while ((UART_REG(0x00) & 0x80u) == 0u) {
    }
    UART_REG(0x04) = (uint8_t)c;
#elif defined(FWH_CONSOLE_UART_LPUART)
    while ((UART_REG(0x14) & (1u << 23)) == 0u) {
    }
    UART_REG(0x1C) = (uint8_t)c;
#elif defined(FWH_CONSOLE_UART_PL011)
#if defined(FWH_CONSOLE_SETUP)
    /* Resets, clocks and pins first (board file named by console.setup, e.g.
     * runtime/rp2040/console_setup.c). */
    static uint8_t ready;
    if (!ready) {
        fwh_console_setup();
        ready = 1u;
    }
#endif
    while (UART_REG(0x18) & (1u << 5)) {
    }
    UART_REG(0x00) = (uint8_t)c;
#elif defined(FWH_CONSOLE_UART_ESP32)
    /* UART_STATUS_REG +0x1C: TXFIFO_CNT [25:16] of a 128-byte FIFO; UART_FIFO_REG +0x0
     * takes one byte (ESP32-C3 TRM 26.5). The boot ROM has set 115200 8N1 already. */
    while (((UART_REG(0x1C) >> 16) & 0x3FFu) >= 126u) {
    }
    UART_REG(0x00) = (uint8_t)c;
#else
#error "FWH_CONSOLE_UART_BASE set without a UART type"
#endif
}
#endif

void fwh_puts(const char *text)
{
#if defined(FWH_CONSOLE_SEMIHOSTING)
    semihost(SYS_WRITE0, text);
#elif defined(FWH_CONSOLE_UART_BASE)
    for (; *text != '\0'; ++text) {
        if (*text == '\n') {
            uart_putc('\r');
        }
        uart_putc(*text);
    }
#else
    (void)text;
#endif
}

void fwh_put_hex(uint32_t value)
{
    /* Filled element by element: a partial initialiser becomes a memset call on some
     * targets (Cortex-M0), and the runtime links no library. */
    char text[11];
    text[0] = '0';
    text[1] = 'x';
    for (int i = 0; i < 8; ++i) {
        uint32_t nibble = (value >> (28 - 4 * i)) & 0xFu;
        text[2 + i] = (char)(nibble < 10 ? '0' + nibble : 'a' + nibble - 10);
    }
    text[10] = '\0';
    fwh_puts(text);
}

void fwh_put_dec(uint32_t value)
{
    char text[11];
    int pos = 10;
    text[pos] = '\0';
    do {
        text[--pos] = (char)('0' + value % 10u);
        value /= 10u;
    } while (value != 0u && pos > 0);
    fwh_puts(&text[pos]);
}

void fwh_exit(int status)
{
#if defined(FWH_CONSOLE_SEMIHOSTING) || defined(FWH_EXIT_SEMIHOSTING)
    const uint32_t block[2] = {ADP_STOPPED_APPLICATION_EXIT, (uint32_t)status};
    semihost(SYS_EXIT_EXTENDED, block);
#else
    (void)status;
#endif
    for (;;) {
#if defined(FWH_ARCH_ARM)
        __asm__ volatile("wfi");
#else
        __asm__ volatile("wfi");
#endif
    }
}

/* Exit status of a run that hit an unhandled interrupt or exception. */
#define FWH_EXIT_UNEXPECTED 3

void fwh_unexpected_interrupt(void)
{
    fwh_puts("FWH: unexpected interrupt or exception\n");
    fwh_exit(FWH_EXIT_UNEXPECTED);
}
