"""Write an STM32CubeMX-style Makefile project (no HAL: small stand-in sources).

Laid out as CubeMX generates it: Core/Src, Core/Inc, a startup_*.s with the vector table
and weak handler aliases, a *_FLASH.ld linker script, and a generated-style Makefile.
Used by the import and parity tests and by bench/build_speed.py (with `extra_files`).
"""

from __future__ import annotations

from pathlib import Path

CHIPS = {
    # define, core, fpu, linker script, RAM origin/length, flash length, IRQ names
    "STM32H743xx": ("cortex-m7", "fpv5-d16", "STM32H743ZITx_FLASH.ld", 0x24000000, "512K", "2048K",
                    "stm32h7xx"),
    "STM32F407xx": ("cortex-m4", "fpv4-sp-d16", "STM32F407VGTx_FLASH.ld", 0x20000000, "128K",
                    "1024K", "stm32f4xx"),
}
# IRQ lines (position in the table after the 16 system words) of the handlers the test
# project defines, from ST's CMSIS headers (stm32f407xx.h, stm32h743xx.h IRQn_Type): the HAL
# time base on a timer (TIM1 on the F4, TIM6 on the H7), USB OTG FS, a DMA stream, UARTs.
IRQS = {
    "STM32F407xx": [("WWDG_IRQHandler", 0), ("TIM1_UP_TIM10_IRQHandler", 25),
                    ("TIM2_IRQHandler", 28), ("USART2_IRQHandler", 38),
                    ("USART3_IRQHandler", 39), ("EXTI15_10_IRQHandler", 40),
                    ("DMA2_Stream0_IRQHandler", 56), ("OTG_FS_IRQHandler", 67)],
    "STM32H743xx": [("WWDG_IRQHandler", 0), ("DMA1_Stream0_IRQHandler", 11),
                    ("TIM2_IRQHandler", 28), ("USART3_IRQHandler", 39),
                    ("EXTI15_10_IRQHandler", 40), ("TIM6_DAC_IRQHandler", 54),
                    ("OTG_FS_IRQHandler", 101)],
}
# Registers the handlers touch (RM0090 2.3 / RM0433 2.3.2 memory maps).
REGISTERS = {
    "STM32F407xx": {"USART2_DR": 0x40004404, "USART3_DR": 0x40004804, "TIM1_SR": 0x40010010,
                    "TIM2_SR": 0x40000010, "DMA2_LIFCR": 0x40026408,
                    "OTG_FS_GINTSTS": 0x50000014, "EXTI_PR": 0x40013C14},
    "STM32H743xx": {"USART3_DR": 0x40004824, "TIM6_SR": 0x40001010, "TIM2_SR": 0x40000010,
                    "DMA1_LIFCR": 0x40020008, "OTG_FS_GINTSTS": 0x40080014,
                    "EXTI_PR": 0x58000088},
}
HANDLER_BODIES = {
    "TIM1_UP_TIM10_IRQHandler": "TIM1_SR = 0; HAL_IncTick();",
    "TIM6_DAC_IRQHandler": "TIM6_SR = 0; HAL_IncTick();",
    "TIM2_IRQHandler": "TIM2_SR = 0; HAL_IncTick();",
    "USART2_IRQHandler": "uart_rx_byte((uint8_t)USART2_DR);",
    "USART3_IRQHandler": "uart_rx_byte((uint8_t)USART3_DR);",
    "EXTI15_10_IRQHandler": "EXTI_PR = 1u << 13;",
    "DMA2_Stream0_IRQHandler": "DMA2_LIFCR = 0x3Du; dma_done++;",
    "DMA1_Stream0_IRQHandler": "DMA1_LIFCR = 0x3Du; dma_done++;",
    "OTG_FS_IRQHandler": "OTG_FS_GINTSTS = OTG_FS_GINTSTS;",
    "WWDG_IRQHandler": "",
}

MAIN_C = """\
#include <stdlib.h>
#include "main.h"

volatile uint32_t uwTick;
volatile uint32_t rx_count;
static uint8_t rx_buffer[64];

void HAL_IncTick(void)
{
  uwTick++;
}

void uart_rx_byte(uint8_t byte)
{
  rx_buffer[rx_count++ & 63u] = byte;
}

static uint32_t checksum(const uint8_t *data, uint32_t n)
{
  uint32_t sum = 0;
  for (uint32_t i = 0; i < n; i++) {
    sum = (sum << 3) ^ data[i];
  }
  return sum;
}

int main(void)
{
  uint32_t last = 0;
  volatile uint8_t *scratch = malloc(32);   /* newlib's malloc -> _sbrk in sysmem.c */
  if (scratch != 0) {
    scratch[0] = 1;
  }
  while (1) {
    if (uwTick != last) {
      last = uwTick;
      GPIO_TOGGLE = checksum(rx_buffer, sizeof rx_buffer);
    }
  }
}
"""

MAIN_H = """\
#ifndef __MAIN_H
#define __MAIN_H
#include <stdint.h>
#define GPIO_TOGGLE (*(volatile uint32_t *)0x58020414u)
void HAL_IncTick(void);
void uart_rx_byte(uint8_t byte);
#endif
"""

FAULTS_C = """\
void NMI_Handler(void) { while (1) { } }
void HardFault_Handler(void) { while (1) { } }
void MemManage_Handler(void) { while (1) { } }
void BusFault_Handler(void) { while (1) { } }
void UsageFault_Handler(void) { while (1) { } }
void SVC_Handler(void) { }
void DebugMon_Handler(void) { }
void PendSV_Handler(void) { }
void SysTick_Handler(void) { HAL_IncTick(); }
"""


def it_c(chip: str) -> str:
    """The chip's stm32*_it.c: the four fault handlers, SysTick, and the IRQ handlers."""
    regs = "".join(f"#define {n} (*(volatile uint32_t *)0x{a:08X}u)\n"
                   for n, a in REGISTERS[chip].items())
    irqs = "".join(f"void {name}(void) {{ {HANDLER_BODIES[name]} }}\n"
                   for name, _line in IRQS[chip] if name != "WWDG_IRQHandler")
    return f'#include "main.h"\n\n{regs}volatile uint32_t dma_done;\n\n{FAULTS_C}{irqs}'


SYSTEM_C = """\
#include <stdint.h>
#define SCB_CPACR (*(volatile uint32_t *)0xE000ED88u)
#define SCB_VTOR (*(volatile uint32_t *)0xE000ED08u)
#define RCC_CR (*(volatile uint32_t *)RCC_CR_ADDRESS)
uint32_t SystemCoreClock = 64000000u;
void SystemInit(void)
{
  SCB_CPACR |= (0xFu << 20);    /* CP10/CP11 full access: the FPU */
  RCC_CR |= 1u;                 /* HSI on */
#if defined(USER_VECT_TAB_ADDRESS)
  SCB_VTOR = 0x08000000u;
#endif
}
"""

# newlib's _sbrk as CubeMX's sysmem.c shapes it: the heap runs from `_end` up to
# `_estack - _Min_Stack_Size`, symbols of the vendor linker script.
SYSMEM_C = """\
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
extern uint8_t _end;
extern uint8_t _estack;
extern uint32_t _Min_Stack_Size;
static uint8_t *heap_top;
void *_sbrk(ptrdiff_t increment)
{
  uint8_t *limit = &_estack - (uintptr_t)&_Min_Stack_Size;
  uint8_t *old;
  if (heap_top == NULL) {
    heap_top = &_end;
  }
  if (heap_top + increment > limit) {
    errno = ENOMEM;
    return (void *)-1;
  }
  old = heap_top;
  heap_top += increment;
  return old;
}
"""


def _startup(chip: str, irq_count: int) -> str:
    core = CHIPS[chip][0]
    system = ["_estack", "Reset_Handler", "NMI_Handler", "HardFault_Handler",
              "MemManage_Handler", "BusFault_Handler", "UsageFault_Handler", "0", "0", "0", "0",
              "SVC_Handler", "DebugMon_Handler", "0", "PendSV_Handler", "SysTick_Handler"]
    names = {n: f"IRQ{i}_IRQHandler" for i, n in enumerate(range(irq_count))}
    for name, line in IRQS[chip]:
        names[line] = name
    irqs = [names[i] for i in range(irq_count)]
    words = "\n".join(f"  .word {w}" for w in system + irqs)
    weak = "\n".join(f"  .weak {h}\n  .thumb_set {h},Default_Handler"
                     for h in dict.fromkeys(system[2:] + irqs) if h != "0")
    return f"""\
  .syntax unified
  .cpu {core}
  .fpu softvfp
  .thumb

.global g_pfnVectors
.global Default_Handler

.word _sidata
.word _sdata
.word _edata
.word _sbss
.word _ebss

  .section .text.Reset_Handler
  .weak Reset_Handler
  .type Reset_Handler, %function
Reset_Handler:
  ldr sp, =_estack
  bl SystemInit
  ldr r0, =_sdata
  ldr r1, =_edata
  ldr r2, =_sidata
  movs r3, #0
  b LoopCopyDataInit
CopyDataInit:
  ldr r4, [r2, r3]
  str r4, [r0, r3]
  adds r3, r3, #4
LoopCopyDataInit:
  adds r4, r0, r3
  cmp r4, r1
  bcc CopyDataInit
  ldr r2, =_sbss
  ldr r4, =_ebss
  movs r3, #0
  b LoopFillZerobss
FillZerobss:
  str r3, [r2]
  adds r2, r2, #4
LoopFillZerobss:
  cmp r2, r4
  bcc FillZerobss
  bl __libc_init_array
  bl main
  bx lr
.size Reset_Handler, .-Reset_Handler

  .section .text.Default_Handler,"ax",%progbits
Default_Handler:
Infinite_Loop:
  b Infinite_Loop
  .size Default_Handler, .-Default_Handler

  .section .isr_vector,"a",%progbits
  .type g_pfnVectors, %object
  .size g_pfnVectors, .-g_pfnVectors
g_pfnVectors:
{words}

{weak}
"""


def _linker_script(chip: str) -> str:
    _core, _fpu, _name, ram, ram_len, flash_len, _family = CHIPS[chip]
    return f"""\
ENTRY(Reset_Handler)

_estack = ORIGIN(RAM) + LENGTH(RAM);
_Min_Heap_Size = 0x200;
_Min_Stack_Size = 0x400;

MEMORY
{{
  FLASH (rx) : ORIGIN = 0x08000000, LENGTH = {flash_len}
  RAM (xrw) : ORIGIN = 0x{ram:08X}, LENGTH = {ram_len}
}}

SECTIONS
{{
  .isr_vector :
  {{
    . = ALIGN(4);
    KEEP(*(.isr_vector))
    . = ALIGN(4);
  }} >FLASH

  .text :
  {{
    . = ALIGN(4);
    *(.text)
    *(.text*)
    *(.glue_7)
    *(.glue_7t)
    *(.eh_frame)
    KEEP (*(.init))
    KEEP (*(.fini))
    . = ALIGN(4);
    _etext = .;
  }} >FLASH

  .rodata :
  {{
    . = ALIGN(4);
    *(.rodata)
    *(.rodata*)
    . = ALIGN(4);
  }} >FLASH

  .ARM.extab : {{ *(.ARM.extab* .gnu.linkonce.armextab.*) }} >FLASH
  .ARM : {{
    __exidx_start = .;
    *(.ARM.exidx*)
    __exidx_end = .;
  }} >FLASH

  .preinit_array :
  {{
    PROVIDE_HIDDEN (__preinit_array_start = .);
    KEEP (*(.preinit_array*))
    PROVIDE_HIDDEN (__preinit_array_end = .);
  }} >FLASH
  .init_array :
  {{
    PROVIDE_HIDDEN (__init_array_start = .);
    KEEP (*(SORT(.init_array.*)))
    KEEP (*(.init_array*))
    PROVIDE_HIDDEN (__init_array_end = .);
  }} >FLASH
  .fini_array :
  {{
    PROVIDE_HIDDEN (__fini_array_start = .);
    KEEP (*(SORT(.fini_array.*)))
    KEEP (*(.fini_array*))
    PROVIDE_HIDDEN (__fini_array_end = .);
  }} >FLASH

  _sidata = LOADADDR(.data);

  .data :
  {{
    . = ALIGN(4);
    _sdata = .;
    *(.data)
    *(.data*)
    . = ALIGN(4);
    _edata = .;
  }} >RAM AT> FLASH

  . = ALIGN(4);
  .bss :
  {{
    _sbss = .;
    __bss_start__ = _sbss;
    *(.bss)
    *(.bss*)
    *(COMMON)
    . = ALIGN(4);
    _ebss = .;
    __bss_end__ = _ebss;
  }} >RAM

  ._user_heap_stack :
  {{
    . = ALIGN(8);
    PROVIDE ( end = . );
    PROVIDE ( _end = . );
    . = . + _Min_Heap_Size;
    . = . + _Min_Stack_Size;
    . = ALIGN(8);
  }} >RAM

  .ARM.attributes 0 : {{ *(.ARM.attributes) }}
}}
"""


def _makefile(target: str, chip: str, c_sources: list[str]) -> str:
    core, fpu, script, *_rest, family = CHIPS[chip]
    sources = " \\\n".join(c_sources)
    return f"""\
##########################################################################################
# File automatically-generated by tool: [projectgenerator] version: [4.1.0] (stand-in)
##########################################################################################

TARGET = {target}

######################################
# building variables
######################################
# debug build?
DEBUG = 1
# optimization
OPT = -Og

#######################################
# paths
#######################################
# Build path
BUILD_DIR = build

######################################
# source
######################################
# C sources
C_SOURCES =  \\
{sources}

# ASM sources
ASM_SOURCES =  \\
startup_{chip.lower().replace("xx", "xx")}.s

#######################################
# binaries
#######################################
PREFIX = arm-none-eabi-
# The gcc compiler bin path can be either defined in make command via GCC_PATH variable (> make GCC_PATH=xxx)
# either it can be added to the PATH environment variable.
ifdef GCC_PATH
CC = $(GCC_PATH)/$(PREFIX)gcc
AS = $(GCC_PATH)/$(PREFIX)gcc -x assembler-with-cpp
CP = $(GCC_PATH)/$(PREFIX)objcopy
SZ = $(GCC_PATH)/$(PREFIX)size
else
CC = $(PREFIX)gcc
AS = $(PREFIX)gcc -x assembler-with-cpp
CP = $(PREFIX)objcopy
SZ = $(PREFIX)size
endif
HEX = $(CP) -O ihex
BIN = $(CP) -O binary -S

#######################################
# CFLAGS
#######################################
# cpu
CPU = -mcpu={core}

# fpu
FPU = -mfpu={fpu}

# float-abi
FLOAT-ABI = -mfloat-abi=hard

# mcu
MCU = $(CPU) -mthumb $(FPU) $(FLOAT-ABI)

# macros for gcc
# AS defines
AS_DEFS =

# C defines
C_DEFS =  \\
-DUSE_HAL_DRIVER \\
-D{chip}

# AS includes
AS_INCLUDES =

# C includes
C_INCLUDES =  \\
-ICore/Inc

# compile gcc flags
ASFLAGS = $(MCU) $(AS_DEFS) $(AS_INCLUDES) $(OPT) -Wall -fdata-sections -ffunction-sections

CFLAGS += $(MCU) $(C_DEFS) $(C_INCLUDES) $(OPT) -Wall -fdata-sections -ffunction-sections

ifeq ($(DEBUG), 1)
CFLAGS += -g -gdwarf-2
endif

# Generate dependency information
CFLAGS += -MMD -MP -MF"$(@:%.o=%.d)"

#######################################
# LDFLAGS
#######################################
# link script
LDSCRIPT = {script}

# libraries
LIBS = -lc -lm -lnosys
LIBDIR =
LDFLAGS = $(MCU) -specs=nano.specs -T$(LDSCRIPT) $(LIBDIR) $(LIBS) \\
-Wl,-Map=$(BUILD_DIR)/$(TARGET).map,--cref -Wl,--gc-sections

# default action: build all
all: $(BUILD_DIR)/$(TARGET).elf $(BUILD_DIR)/$(TARGET).hex $(BUILD_DIR)/$(TARGET).bin

#######################################
# build the application
#######################################
# list of objects
OBJECTS = $(addprefix $(BUILD_DIR)/,$(notdir $(C_SOURCES:.c=.o)))
vpath %.c $(sort $(dir $(C_SOURCES)))
# list of ASM program objects
OBJECTS += $(addprefix $(BUILD_DIR)/,$(notdir $(ASM_SOURCES:.s=.o)))
vpath %.s $(sort $(dir $(ASM_SOURCES)))

$(BUILD_DIR)/%.o: %.c Makefile | $(BUILD_DIR)
\t$(CC) -c $(CFLAGS) -Wa,-a,-ad,-alms=$(BUILD_DIR)/$(notdir $(<:.c=.lst)) $< -o $@

$(BUILD_DIR)/%.o: %.s Makefile | $(BUILD_DIR)
\t$(AS) -c $(CFLAGS) $< -o $@

$(BUILD_DIR)/$(TARGET).elf: $(OBJECTS) Makefile
\t$(CC) $(OBJECTS) $(LDFLAGS) -o $@
\t$(SZ) $@

$(BUILD_DIR)/%.hex: $(BUILD_DIR)/%.elf | $(BUILD_DIR)
\t$(HEX) $< $@

$(BUILD_DIR)/%.bin: $(BUILD_DIR)/%.elf | $(BUILD_DIR)
\t$(BIN) $< $@

$(BUILD_DIR):
\tmkdir $@

#######################################
# clean up
#######################################
clean:
\t-rm -fR $(BUILD_DIR)

#######################################
# dependencies
#######################################
-include $(wildcard $(BUILD_DIR)/*.d)

# *** EOF ***
"""


def write_cubemx_project(root: Path, chip: str = "STM32H743xx", target: str = "blinky",
                         extra_files: int = 0) -> Path:
    """Write the project under `root`; returns the Makefile. `extra_files` adds that many
    generated C files (for the build-speed benchmark)."""
    family = CHIPS[chip][6]
    (root / "Core" / "Src").mkdir(parents=True, exist_ok=True)
    (root / "Core" / "Inc").mkdir(parents=True, exist_ok=True)
    (root / "Core" / "Src" / "main.c").write_text(MAIN_C)
    (root / "Core" / "Inc" / "main.h").write_text(MAIN_H)
    (root / "Core" / "Src" / f"{family}_it.c").write_text(it_c(chip))
    rcc_cr = "0x40023800u" if chip.startswith("STM32F4") else "0x58024400u"
    (root / "Core" / "Src" / f"system_{family}.c").write_text(
        f"#define RCC_CR_ADDRESS {rcc_cr}\n" + SYSTEM_C)
    (root / "Core" / "Src" / "sysmem.c").write_text(SYSMEM_C)
    sources = ["Core/Src/main.c", f"Core/Src/{family}_it.c", f"Core/Src/system_{family}.c",
               "Core/Src/sysmem.c"]
    for index in range(extra_files):
        name = f"Core/Src/module_{index:04d}.c"
        body = "\n".join(
            f"int module_{index}_f{k}(int x) {{ int acc = x * {k + 3}; "
            f"for (int i = 0; i < (x & 15); i++) acc = (acc << 1) ^ (i * {k + 7}); "
            f"return acc; }}" for k in range(20))
        (root / name).write_text('#include "main.h"\n' + body + "\n")
        sources.append(name)
    irq_count = 150 if chip.startswith("STM32H7") else 82
    (root / f"startup_{chip.lower()}.s").write_text(_startup(chip, irq_count))
    (root / CHIPS[chip][2]).write_text(_linker_script(chip))
    makefile = root / "Makefile"
    makefile.write_text(_makefile(target, chip, sources))
    return makefile
