/* RP2040 second-stage boot (boot2) for the Pico's W25Q080-family QSPI flash: standard
 * serial read (03h) execute-in-place, then into the firmware's vector table.
 *
 * Facts from the RP2040 datasheet (build 2021-03):
 *   2.8.1.3   The boot ROM reads the first 256 bytes of flash with 03h, copies them to
 *             SRAM at 0x20041F00, checks the CRC32 of the first 252 bytes against the last
 *             4 (2.8.1.3.1), then executes the copy from its first byte (Thumb). So this
 *             code runs from SRAM at an address it was not linked for: it must be
 *             position-independent (pc-relative literals and branches only). The build
 *             checks that the assembled section has no relocations, pads it to 252 bytes
 *             and appends the CRC (fwharden/image/boot2.py).
 *   4.10.13   SSI registers at XIP_SSI_BASE 0x18000000: CTRLR0 +0x00 (DFS_32 [20:16],
 *             TMOD [9:8], SPI_FRF [22:21]), CTRLR1 +0x04 (NDF), SSIENR +0x08, BAUDR +0x14,
 *             SPI_CTRLR0 +0xF4 (XIP_CMD [31:24], INST_L [9:8], ADDR_L [5:2] in 4-bit
 *             units, TRANS_TYPE [1:0]). The SSI must be disabled while it is configured.
 *   2.15      At boot clk_sys runs from the ring oscillator (nominally 6.5 MHz); the 03h
 *             command works up to 50 MHz on the W25Q080, so clk_sys / 4 is far inside.
 *   2.8.1     The application's vector table follows boot2 at 0x10000100: boot2 points
 *             VTOR (0xE000ED08) at it, loads MSP from its word 0 and jumps to word 1.
 * This boot2 never returns to its caller: it is only ever entered from the boot ROM
 * (fwharden's runtime does not re-run it after flash programming, as pico-sdk's may).
 */
    .syntax unified
    .cpu cortex-m0plus
    .thumb

    .section .text.fwh_boot2, "ax", %progbits
    .balign 4
    .global fwh_boot2_entry
    .type fwh_boot2_entry, %function
    .thumb_func
fwh_boot2_entry:
    ldr r3, 1f              /* r3 = XIP_SSI_BASE */
    movs r0, #0
    str r0, [r3, #0x08]     /* SSIENR = 0: disable the SSI before changing it */
    movs r0, #4
    str r0, [r3, #0x14]     /* BAUDR = 4: SCK = clk_sys / 4 */
    ldr r0, 2f
    str r0, [r3, #0x00]     /* CTRLR0: 32-bit frames, TMOD = EEPROM read, standard SPI */
    movs r0, #0
    str r0, [r3, #0x04]     /* CTRLR1: NDF = 0, one data frame per XIP access */
    ldr r1, 3f
    ldr r0, 4f
    str r0, [r1]            /* SPI_CTRLR0: 03h, 8-bit instruction, 24-bit address */
    movs r0, #1
    str r0, [r3, #0x08]     /* SSIENR = 1: XIP reads of 0x10000000.. now go to the flash */

    ldr r0, 5f              /* the firmware's vector table */
    ldr r1, 6f
    str r0, [r1]            /* VTOR */
    ldmia r0!, {r1, r2}     /* r1 = initial SP, r2 = Reset_Handler (Thumb bit set) */
    msr msp, r1
    bx r2

    .balign 4
1:  .word 0x18000000        /* XIP_SSI_BASE */
2:  .word 0x001F0300        /* CTRLR0: DFS_32 = 31 (32 bits), TMOD = 3 (EEPROM read) */
3:  .word 0x180000F4        /* SPI_CTRLR0 */
4:  .word 0x03000218        /* XIP_CMD = 0x03, INST_L = 2 (8 bits), ADDR_L = 6 (24 bits),
                               TRANS_TYPE = 0 (instruction and address on one line) */
5:  .word 0x10000100        /* vector table right after boot2 */
6:  .word 0xE000ED08        /* SCB VTOR (ARMv6-M DDI 0419E B3.2.5) */
    .size fwh_boot2_entry, . - fwh_boot2_entry
