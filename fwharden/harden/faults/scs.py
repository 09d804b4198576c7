"""Cortex-M fault status and exception bits, named exactly as the runtime's C side names
them (fwharden/runtime/cortex_m/scs.h, CMSIS style), so a bit reads the same in the
capture code and here. A unit test compares every value with scs.h.

CFSR = MMFSR | BFSR << 8 | UFSR << 16 (ARM DDI 0403E B3.2.15); HFSR B3.2.16; xPSR B1.4.2;
EXC_RETURN B1.5.8.
"""

from __future__ import annotations

SCB_CFSR_IACCVIOL_Msk = 1 << 0
SCB_CFSR_DACCVIOL_Msk = 1 << 1
SCB_CFSR_MUNSTKERR_Msk = 1 << 3
SCB_CFSR_MSTKERR_Msk = 1 << 4
SCB_CFSR_MLSPERR_Msk = 1 << 5
SCB_CFSR_MMARVALID_Msk = 1 << 7
SCB_CFSR_IBUSERR_Msk = 1 << 8
SCB_CFSR_PRECISERR_Msk = 1 << 9
SCB_CFSR_IMPRECISERR_Msk = 1 << 10
SCB_CFSR_UNSTKERR_Msk = 1 << 11
SCB_CFSR_STKERR_Msk = 1 << 12
SCB_CFSR_LSPERR_Msk = 1 << 13
SCB_CFSR_BFARVALID_Msk = 1 << 15
SCB_CFSR_UNDEFINSTR_Msk = 1 << 16
SCB_CFSR_INVSTATE_Msk = 1 << 17
SCB_CFSR_INVPC_Msk = 1 << 18
SCB_CFSR_NOCP_Msk = 1 << 19
SCB_CFSR_STKOF_Msk = 1 << 20       # ARMv8-M: a stack-limit violation
SCB_CFSR_UNALIGNED_Msk = 1 << 24
SCB_CFSR_DIVBYZERO_Msk = 1 << 25
SCB_HFSR_VECTTBL_Msk = 1 << 1
SCB_HFSR_FORCED_Msk = 1 << 30
SCB_HFSR_DEBUGEVT_Msk = 1 << 31
xPSR_ISR_Msk = 0x1FF               # the exception number (IPSR)
FWH_xPSR_SPREALIGN_Msk = 1 << 9    # stacked xPSR: the core added the 4-byte alignment pad
EXC_RETURN_FTYPE = 0x10            # 0 = the extended (FP) frame was stacked
EXC_RETURN_SPSEL = 0x04            # 1 = the frame is on PSP
