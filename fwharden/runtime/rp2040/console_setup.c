/* RP2040 console set-up: what UART0 needs before the first character, from reset state.
 *
 * RP2040 datasheet (build 2021-03):
 *   2.14.3  RESETS at 0x4000C000: RESET +0x0 (a 1 holds a block in reset; all peripherals
 *           start held), RESET_DONE +0x8. Bits: IO_BANK0 5, PADS_BANK0 8, UART0 22. The
 *           atomic clear alias is the register address + 0x3000 (2.1.2).
 *   2.16.7  XOSC at 0x40024000: CTRL +0x00 (FREQ_RANGE [11:0] = 0xAA0 for 1-15 MHz,
 *           ENABLE [23:12] = 0xFAB), STATUS +0x04 (bit 31 STABLE), STARTUP +0x0C (DELAY
 *           in units of 256 XOSC cycles: (12 MHz / 1000 + 128) / 256 = 47 for ~1 ms,
 *           2.16.3). The Pico's crystal is 12 MHz.
 *   2.15.7  CLOCKS at 0x40008000: CLK_PERI_CTRL +0x48 (ENABLE bit 11, AUXSRC [7:5],
 *           4 = xosc_clksrc). The aux mux may only change while the clock is stopped
 *           (2.15.3.2). clk_peri clocks the UARTs; taking it from the XOSC gives an exact
 *           12 MHz whatever clk_sys runs at (the ring oscillator after boot).
 *   4.2.8   UART0 (PL011) at 0x40034000: IBRD +0x24, FBRD +0x28, LCR_H +0x2C (a write
 *           latches the divisors), CR +0x30 (UARTEN 0, TXE 8, RXE 9). 115200 baud from
 *           12 MHz: divisor 12e6 / (16 * 115200) = 6.5104 -> IBRD 6, FBRD 33 (4.2.7.1).
 *   2.19.6  IO_BANK0 at 0x40014000: GPIOn_CTRL at +0x04 + 8n, FUNCSEL [4:0]; function 2 is
 *           UART (GPIO0 = UART0 TX, GPIO1 = UART0 RX, 2.19.2). The pads' reset state
 *           (input and output enabled) suits them.
 * Called once, lazily, by the console before its first character (runtime/common/
 * console.c), and only on a profile with console.setup = "rp2040".
 */
#include <stdint.h>

#define REG(address) (*(volatile uint32_t *)(address))

#define RESETS_RESET_CLR 0x4000F000u      /* 0x4000C000 + 0x3000: atomic clear */
#define RESETS_RESET_DONE 0x4000C008u
#define RESET_IO_BANK0 (1u << 5)
#define RESET_PADS_BANK0 (1u << 8)
#define RESET_UART0 (1u << 22)

#define XOSC_CTRL 0x40024000u
#define XOSC_STATUS 0x40024004u
#define XOSC_STARTUP 0x4002400Cu
#define XOSC_STABLE (1u << 31)

#define CLK_PERI_CTRL 0x40008048u
#define CLK_PERI_ENABLE (1u << 11)
#define CLK_PERI_AUXSRC_XOSC (4u << 5)

#define UART0_BASE 0x40034000u
#define IO_BANK0_GPIO_CTRL(n) (0x40014004u + 8u * (n))
#define GPIO_FUNC_UART 2u

void fwh_console_setup(void)
{
    uint32_t blocks = RESET_IO_BANK0 | RESET_PADS_BANK0 | RESET_UART0;
    REG(RESETS_RESET_CLR) = blocks;
    while ((REG(RESETS_RESET_DONE) & blocks) != blocks) {
    }

    REG(XOSC_STARTUP) = 47u;
    REG(XOSC_CTRL) = (0xFABu << 12) | 0xAA0u;
    while ((REG(XOSC_STATUS) & XOSC_STABLE) == 0u) {
    }

    REG(CLK_PERI_CTRL) = 0u;             /* stop clk_peri before changing its source */
    for (volatile uint32_t wait = 0; wait < 16u; ++wait) {
    }
    REG(CLK_PERI_CTRL) = CLK_PERI_AUXSRC_XOSC;
    REG(CLK_PERI_CTRL) = CLK_PERI_AUXSRC_XOSC | CLK_PERI_ENABLE;

    REG(UART0_BASE + 0x30u) = 0u;        /* CR: off while configured */
    REG(UART0_BASE + 0x24u) = 6u;        /* IBRD */
    REG(UART0_BASE + 0x28u) = 33u;       /* FBRD */
    REG(UART0_BASE + 0x2Cu) = 0x70u;     /* LCR_H: 8 bits (WLEN 0b11), FIFOs on, 1 stop */
    REG(UART0_BASE + 0x30u) = (1u << 0) | (1u << 8) | (1u << 9);

    REG(IO_BANK0_GPIO_CTRL(0)) = GPIO_FUNC_UART;
    REG(IO_BANK0_GPIO_CTRL(1)) = GPIO_FUNC_UART;
}
