/* Cortex-M System Control Space registers and bits, named as the CMSIS core headers
 * (core_cm0.h, core_cm3.h, core_cm33.h) name them, so code and decoders read alike.
 *
 * Sources: ARMv6-M ARM (DDI 0419E) B3.2, ARMv7-M ARM (DDI 0403E) B3.2 and B3.5,
 * ARMv8-M ARM (DDI 0553B) D1.2 (registers) and B3.21 (stack limits). The host-side fault
 * decoder (fwharden/harden/faults/) names the same bits; keep the two in step.
 *
 * Which core has what (selected with the compiler's __ARM_ARCH_* macros):
 *   ARMv6-M, ARMv8-M Baseline: no CFSR/HFSR/MMFAR/BFAR, no SHCSR fault enables, no SHPR1,
 *     no BASEPRI; SHPR2/SHPR3 and NVIC_IPR are word-access only (DDI 0419E B3.2.8, B3.4.7).
 *   ARMv7-M: PMSAv7 MPU (RBAR/RASR, power-of-two regions), byte-accessible priorities.
 *   ARMv8-M Mainline: PMSAv8 MPU (RBAR/RLAR, base/limit on 32-byte granules, no
 *     "no access" permission), MSPLIM/PSPLIM stack-limit registers, CFSR.STKOF.
 */
#ifndef FWHARDEN_CORTEX_M_SCS_H
#define FWHARDEN_CORTEX_M_SCS_H

#include <stdint.h>

#if defined(__ARM_ARCH_6M__) || defined(__ARM_ARCH_8M_BASE__)
#define FWH_ARMV6M_LIKE 1      /* Baseline system registers only */
#endif
#if defined(__ARM_ARCH_8M_MAIN__)
#define FWH_ARMV8M_MAIN 1
#endif

#define FWH_REG32(address) (*(volatile uint32_t *)(address))

/* System control block (DDI 0403E B3.2.2, Table B3-4). */
#define SCB_VTOR FWH_REG32(0xE000ED08u)
#define SCB_SHPR1 ((volatile uint8_t *)0xE000ED18u)   /* ARMv7-M / v8-M Main only */
#define SCB_SHPR2 FWH_REG32(0xE000ED1Cu)
#define SCB_SHPR3 FWH_REG32(0xE000ED20u)
#define SCB_SHCSR FWH_REG32(0xE000ED24u)
#define SCB_CFSR FWH_REG32(0xE000ED28u)
#define SCB_HFSR FWH_REG32(0xE000ED2Cu)
#define SCB_MMFAR FWH_REG32(0xE000ED34u)
#define SCB_BFAR FWH_REG32(0xE000ED38u)

/* SHCSR fault enables (B3.2.13). SECUREFAULTENA is ARMv8-M with the Security Extension. */
#define SCB_SHCSR_MEMFAULTENA_Msk (1u << 16)
#define SCB_SHCSR_BUSFAULTENA_Msk (1u << 17)
#define SCB_SHCSR_USGFAULTENA_Msk (1u << 18)

/* CFSR = MMFSR (bits 0-7) | BFSR (8-15) | UFSR (16-31) (B3.2.15). */
#define SCB_CFSR_IACCVIOL_Msk (1u << 0)
#define SCB_CFSR_DACCVIOL_Msk (1u << 1)
#define SCB_CFSR_MUNSTKERR_Msk (1u << 3)
#define SCB_CFSR_MSTKERR_Msk (1u << 4)
#define SCB_CFSR_MLSPERR_Msk (1u << 5)
#define SCB_CFSR_MMARVALID_Msk (1u << 7)
#define SCB_CFSR_IBUSERR_Msk (1u << 8)
#define SCB_CFSR_PRECISERR_Msk (1u << 9)
#define SCB_CFSR_IMPRECISERR_Msk (1u << 10)
#define SCB_CFSR_UNSTKERR_Msk (1u << 11)
#define SCB_CFSR_STKERR_Msk (1u << 12)
#define SCB_CFSR_LSPERR_Msk (1u << 13)
#define SCB_CFSR_BFARVALID_Msk (1u << 15)
#define SCB_CFSR_UNDEFINSTR_Msk (1u << 16)
#define SCB_CFSR_INVSTATE_Msk (1u << 17)
#define SCB_CFSR_INVPC_Msk (1u << 18)
#define SCB_CFSR_NOCP_Msk (1u << 19)
#define SCB_CFSR_STKOF_Msk (1u << 20)       /* ARMv8-M: a stack-limit violation */
#define SCB_CFSR_UNALIGNED_Msk (1u << 24)
#define SCB_CFSR_DIVBYZERO_Msk (1u << 25)

/* HFSR (B3.2.16). */
#define SCB_HFSR_VECTTBL_Msk (1u << 1)
#define SCB_HFSR_FORCED_Msk (1u << 30)
#define SCB_HFSR_DEBUGEVT_Msk (1u << 31)

/* xPSR (B1.4.2): IPSR is the exception number; bit 9 of the *stacked* xPSR says the core
 * inserted a 4-byte pad to 8-align the frame (B1.5.7; CMSIS has no name for it). */
#define xPSR_ISR_Msk 0x1FFu
#define xPSR_T_Msk (1u << 24)
#define FWH_xPSR_SPREALIGN_Msk (1u << 9)

/* EXC_RETURN (DDI 0403E B1.5.8; DDI 0553B D1.2.95): the LR value on exception entry. */
#define EXC_RETURN_DCRS 0x00000020u   /* v8-M: 0 = callee registers stacked too */
#define EXC_RETURN_FTYPE 0x00000010u  /* 0 = the extended (FP) frame was stacked */
#define EXC_RETURN_SPSEL 0x00000004u  /* 1 = the frame is on PSP */

/* Exception frame sizes (B1.5.7): R0-R3, R12, LR, PC, xPSR; the extended frame adds
 * S0-S15, FPSCR and a reserved word. v8-M's additional state context (integrity
 * signature, reserved word, R4-R11) sits below the basic frame when DCRS is 0. */
#define FWH_FRAME_BASIC 32u
#define FWH_FRAME_FP 104u
#define FWH_FRAME_V8M_CALLEE 40u

/* NVIC (B3.4.3): priorities, word access on ARMv6-M. */
#define NVIC_IPR ((volatile uint32_t *)0xE000E400u)

/* MPU (PMSAv7: DDI 0403E B3.5; PMSAv8: DDI 0553B D1.2.108-D1.2.118). */
#define MPU_TYPE FWH_REG32(0xE000ED90u)
#define MPU_CTRL FWH_REG32(0xE000ED94u)
#define MPU_RNR FWH_REG32(0xE000ED98u)
#define MPU_RBAR FWH_REG32(0xE000ED9Cu)
#define MPU_RASR FWH_REG32(0xE000EDA0u)  /* PMSAv7 */
#define MPU_RLAR FWH_REG32(0xE000EDA0u)  /* PMSAv8: same address, other meaning */
#define MPU_TYPE_DREGION_Pos 8u
#define MPU_CTRL_ENABLE_Msk (1u << 0)
#define MPU_CTRL_PRIVDEFENA_Msk (1u << 2)
#define MPU_RASR_XN_Msk (1u << 28)
#define MPU_RASR_SIZE_Pos 1u
#define MPU_RASR_ENABLE_Msk (1u << 0)
#define MPU_RBAR_BASE_Msk 0xFFFFFFE0u
#define MPU_RBAR_AP_Pos 1u
#define MPU_RBAR_XN_Msk (1u << 0)
#define MPU_RLAR_LIMIT_Msk 0xFFFFFFE0u
#define MPU_RLAR_EN_Msk (1u << 0)

#endif
