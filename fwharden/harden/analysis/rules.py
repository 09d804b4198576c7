"""Built-in sets of functions that must not run in interrupt context, and how names match.

Each category is a named rule with the reason the report shows. Names match a function's
symbol (or any alias of it), also after GCC's clone suffixes (.isra.0, .constprop.1,
.part.2), the linker's `--wrap` prefix and newlib's `_X_r` reentrant form, so
`malloc.constprop.0`, `__wrap_printf` and `_puts_r` are still malloc, printf and puts. A
project adds names with a reason (`[harden.forbid]`) or allows them with a reason
(`[harden.allow]`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from fwharden.harden.analysis.policy import Severity

_CLONE_SUFFIX = re.compile(r"(\.(isra|constprop|part|cold|lto_priv|localalias)(\.\d+)?)+$")


@dataclass(frozen=True)
class Category:
    """One forbidden-call rule: the id SARIF uses, a title, the reason, and the names."""

    rule: str
    title: str
    reason: str
    names: frozenset[str]
    prefixes: tuple[str, ...] = ()
    severity: Severity = "error"

    def matches(self, name: str) -> bool:
        return name in self.names or any(name.startswith(p) for p in self.prefixes)


def _names(text: str) -> frozenset[str]:
    return frozenset(text.split())


BUILTIN: tuple[Category, ...] = (
    Category(
        "heap", "heap allocation",
        "the allocator is not reentrant: an interrupt that preempts malloc/free corrupts the "
        "heap, and allocation can fail or take unbounded time; fix: allocate before "
        "interrupts start and hand data to main with fwh_ring_push or fwh_flag_set "
        "(fwh_handoff.h: no allocation, lock-free, never blocks)",
        _names("malloc calloc realloc free reallocf memalign aligned_alloc posix_memalign "
               "valloc pvalloc _malloc_r _calloc_r _realloc_r _free_r _memalign_r _sbrk "
               "_sbrk_r sbrk __malloc_lock __malloc_unlock pvPortMalloc vPortFree"),
        # C++ operator new / new[] / delete / delete[] (Itanium mangling: _Znw, _Zna, _Zdl, _Zda)
        prefixes=("_Znw", "_Zna", "_Zdl", "_Zda"),
    ),
    Category(
        "stdio", "stdio / printf",
        "newlib and picolibc stdio take locks, may allocate buffers and block on the output "
        "device; formatting also needs far more stack than a handler has",
        _names("printf fprintf sprintf snprintf vprintf vfprintf vsprintf vsnprintf asprintf "
               "vasprintf dprintf iprintf fiprintf siprintf sniprintf viprintf puts fputs "
               "putchar fputc putc fwrite fflush perror scanf sscanf fscanf vscanf getchar "
               "fgets gets fread fopen fclose _printf_r _fprintf_r _sprintf_r _snprintf_r "
               "_vfprintf_r _svfprintf_r _vfiprintf_r _svfiprintf_r _vsnprintf_r _puts_r "
               "_fputs_r _putchar_r _fputc_r _fwrite_r _fflush_r _iprintf_r __sfvwrite_r "
               "__swbuf_r __sinit __sfp_lock_acquire __vfprintf __d_vfprintf"),
    ),
    Category(
        "freertos-blocking", "FreeRTOS call that is not ...FromISR",
        "only the FreeRTOS APIs ending in FromISR may run in an interrupt; this one can block "
        "or switch tasks, which corrupts the scheduler or trips configASSERT; fix: the "
        "...FromISR form, or hand the work to a task with fwh_flag_set or fwh_ring_push "
        "(fwh_handoff.h: lock-free, never blocks)",
        _names("vTaskDelay vTaskDelayUntil xTaskDelayUntil vTaskSuspend vTaskSuspendAll "
               "xTaskResumeAll vTaskResume vTaskDelete xTaskCreate xTaskCreateStatic "
               "vTaskPrioritySet vTaskStartScheduler xTaskNotifyWait xTaskGenericNotifyWait "
               "ulTaskNotifyTake ulTaskGenericNotifyTake xTaskGenericNotify "
               "xQueueGenericSend xQueueReceive xQueueSemaphoreTake xQueuePeek "
               "xQueueTakeMutexRecursive xQueueGiveMutexRecursive xQueueGenericReset "
               "vQueueDelete xQueueCreateMutex xQueueGenericCreate xEventGroupWaitBits "
               "xEventGroupSetBits xEventGroupClearBits xEventGroupSync "
               "xStreamBufferSend xStreamBufferReceive xMessageBufferSend "
               "xMessageBufferReceive xTimerGenericCommand vPortEnterCritical "
               "vPortExitCritical vPortYield"),
    ),
    Category(
        "cmsis-rtos2-blocking", "CMSIS-RTOS2 call not allowed from an ISR",
        "CMSIS-RTOS2 forbids this call in interrupt context (it waits or changes threads); it "
        "returns osErrorISR or blocks the kernel; fix: hand the work to a thread with "
        "fwh_flag_set or fwh_ring_push (fwh_handoff.h: lock-free, never blocks)",
        _names("osDelay osDelayUntil osThreadYield osThreadNew osThreadJoin osThreadExit "
               "osThreadTerminate osThreadSuspend osThreadResume osThreadSetPriority "
               "osMutexAcquire osMutexRelease osMutexNew osEventFlagsWait osThreadFlagsWait "
               "osKernelStart osKernelLock osKernelUnlock osKernelInitialize osSemaphoreNew "
               "osMessageQueueNew osTimerNew osTimerStart osTimerStop osMemoryPoolNew"),
    ),
    Category(
        "cmsis-rtos2-timeout", "CMSIS-RTOS2 call that must use timeout 0 in an ISR",
        "allowed in an interrupt only with timeout 0 (the constant at the call site, "
        "models/cmsis-rtos2.toml); with another or an unknown timeout it blocks or fails",
        _names("osSemaphoreAcquire osMessageQueuePut osMessageQueueGet osMemoryPoolAlloc"),
    ),
    Category(
        "go-alloc", "Go heap allocation",
        "allocating in an interrupt panics on TinyGo ('heap alloc in interrupt'): make, new, "
        "append that grows, string concatenation and map writes all allocate; fix: allocate "
        "before interrupts start and hand data to main with fwharden/handoff's Ring.Push or "
        "Flag.Set (fwh_ring_push / fwh_flag_set in C: no allocation, lock-free, never block)",
        _names("runtime.alloc runtime.sliceAppend runtime.sliceGrow runtime.stringConcat "
               "runtime.stringFromBytes runtime.stringToBytes runtime.stringFromRunes "
               "runtime.stringFromUnicode runtime.hashmapMake runtime.hashmapSet "
               "runtime.hashmapStringSet runtime.hashmapBinarySet runtime.hashmapInterfaceSet "
               "runtime.chanMake runtime.makeInterface runtime.newobject"),
    ),
    Category(
        "go-gc", "Go garbage collection",
        "a collection walks every goroutine stack and cannot run from an interrupt",
        _names("runtime.GC runtime.runGC runtime.markRoots runtime.markStack runtime.sweep"),
    ),
    Category(
        "go-blocking", "Go blocking call or scheduler",
        "an interrupt cannot block or yield: there is no goroutine to park, so the scheduler "
        "hangs or resumes the wrong task; fix: record the event and return with "
        "fwharden/handoff's Flag.Set or Ring.Push (fwh_flag_set / fwh_ring_push in C: "
        "lock-free, never block)",
        _names("internal/task.Pause runtime.scheduler runtime.Gosched time.Sleep "
               "runtime.sleep runtime.deadlock runtime.run"),
    ),
    Category(
        "go-channel", "Go channel operation",
        "a channel send or receive can block, which an interrupt cannot do; fix: "
        "fwharden/handoff's Ring.Push (refuses and counts when full) or Flag.Set, popped "
        "or taken in main (fwh_ring_push / fwh_flag_set in C: lock-free, never block)",
        _names("runtime.chanSend runtime.chanRecv runtime.chanSelect runtime.chanClose"),
    ),
    Category(
        "go-sync", "Go sync lock or wait",
        "sync.Mutex, RWMutex, WaitGroup and Cond park the goroutine; in an interrupt they "
        "deadlock; fix: share data through fwharden/handoff's Ring or Flag, which need no "
        "lock (fwh_ring_push / fwh_flag_set in C)",
        _names("(*sync.Mutex).Lock (*sync.RWMutex).Lock (*sync.RWMutex).RLock "
               "(*sync.WaitGroup).Wait (*sync.Cond).Wait (*sync.Once).Do"),
    ),
    Category(
        "go-goroutine", "goroutine start",
        "starting a goroutine allocates its stack and enters the scheduler",
        _names("internal/task.start runtime.startGoroutine"),
    ),
    Category(
        "go-panic-defer", "Go panic or defer",
        "panic unwinds through defer frames the interrupt does not own, and defer sets up a "
        "heap-allocated frame",
        _names("runtime._panic runtime.setupDeferFrame runtime.destroyDeferFrame "
               "runtime.runtimePanic"),
    ),
    Category(
        "go-print", "Go print",
        "print and fmt write through the runtime's console lock and may allocate",
        _names("runtime.printstring runtime.printnl runtime.printint32 runtime.printuint32 "
               "runtime.printint64 runtime.printuint64 runtime.printbool runtime.printspace "
               "runtime.printptr runtime.printlock fmt.Println fmt.Printf fmt.Print "
               "fmt.Sprintf fmt.Sprint fmt.Fprintf fmt.Fprintln"),
    ),
)


def base_name(name: str) -> str:
    """The name without GCC clone suffixes (.isra.0, .constprop.1, .part.2, ...)."""
    return _CLONE_SUFFIX.sub("", name)


_REENTRANT = re.compile(r"^_([A-Za-z]\w*?)_r$")


def rule_names(name: str) -> tuple[str, ...]:
    """The names a function answers to for the rules: its own, without clone suffixes,
    without the linker's `--wrap` prefix (pico-sdk links `printf` as `__wrap_printf`,
    which takes the stdio mutex and calls the real one) and newlib's reentrant `_X_r` form
    (`_puts_r` is puts with an explicit reent pointer), so a renamed printf is still printf."""
    out = [name]
    for candidate in list(out):
        plain = base_name(candidate)
        out.append(plain)
        if plain.startswith("__wrap_"):
            out.append(plain[len("__wrap_"):])
    for candidate in list(out):
        match = _REENTRANT.match(candidate)
        if match:
            out.append(match.group(1))
    return tuple(dict.fromkeys(out))


class RuleSet:
    """The built-in categories plus a project's own forbidden and allowed names."""

    def __init__(self, categories: tuple[Category, ...],
                 allowed: tuple[tuple[str, str], ...] = ()) -> None:
        self.categories = categories
        self.allowed = dict(allowed)
        # One dict lookup per name instead of a scan over every category; the first
        # category that names a function wins (project rules come last).
        self._by_name: dict[str, Category] = {}
        for category in categories:
            for name in category.names:
                self._by_name.setdefault(name, category)
        self._prefixes = tuple((p, c) for c in categories for p in c.prefixes)

    def allowed_as(self, names: tuple[str, ...]) -> tuple[str, str] | None:
        """(allowed name, reason) when `[harden.allow]` names this function in any form."""
        for name in (c for n in names for c in rule_names(n)):
            if name in self.allowed:
                return name, self.allowed[name]
        return None

    def match(self, names: tuple[str, ...]) -> tuple[Category, str] | None:
        """(category, matched name) for a function with these names, unless allowed."""
        candidates = tuple(dict.fromkeys(c for n in names for c in rule_names(n)))
        if any(n in self.allowed for n in candidates):
            return None
        for name in candidates:
            category = self._by_name.get(name)
            if category is not None:
                return category, name
        for name in candidates:
            for prefix, category in self._prefixes:
                if name.startswith(prefix):
                    return category, name
        return None


def rule_set(forbid: tuple[tuple[str, str], ...] = (),
             allow: tuple[tuple[str, str], ...] = ()) -> RuleSet:
    """Built-in rules with a project's additions: each forbidden name keeps its own reason."""
    project = tuple(Category("project", f"project rule: {name}", reason, frozenset({name}))
                    for name, reason in forbid)
    return RuleSet(categories=BUILTIN + project, allowed=allow)
