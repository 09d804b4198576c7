/* The scenarios. Expected verifier answers are in tests/test_verify.py. */
#include "scenarios.h"

void *malloc(unsigned size);
void free(void *pointer);
int printf(const char *format, ...);
int puts(const char *text);

volatile int g_input;
static volatile int g_sink;

/* 1. A forbidden call three calls below the handler. */
KEEP static void deep_level3(void)
{
    void *volatile block = malloc(16);
    g_sink = (int)(long)block;
}

KEEP static void deep_level2(void)
{
    deep_level3();
    g_sink++;
}

KEEP void scenario_deep(void)
{
    deep_level2();
    g_sink++;
}

/* 2. A forbidden call reached only through tail calls (at -O1 and above). */
KEEP static void log_value(int value)
{
    printf("%d\n", value);
}

KEEP void scenario_tail(int value)
{
    log_value(value + 1);
}

/* 3. An indirect call through a pointer in RAM: nobody can know its targets. */
void (*volatile g_callback)(void);

KEEP void scenario_indirect(void)
{
    g_callback();
}

/* 4. An indirect call whose targets firmware.toml lists: one of them frees memory. */
KEEP void safe_op(void)
{
    g_sink++;
}

KEEP void bad_op(void)
{
    free((void *)(long)g_sink);
}

void (*volatile g_operation)(void) = safe_op;

KEEP void scenario_dispatch(int which)
{
    if (which) {
        g_operation = bad_op;
    }
    g_operation();
}

/* 5. Recursion: two calls per level, so no compiler turns it into a loop. */
KEEP static int walk(int depth)
{
    if (depth <= 0) {
        return g_input;
    }
    return walk(depth - 1) + walk(depth - 2) + 1;
}

KEEP int scenario_recursion(int depth)
{
    return walk(depth);
}

/* 6. A dense switch: compiled to a jump table (TBB/TBH or a table in .rodata). */
KEEP static int twice(int value)
{
    return value * 2;
}

KEEP int scenario_switch(int value)
{
    switch (value) {
    case 0: return twice(3);
    case 1: return 17;
    case 2: return twice(value + 9);
    case 3: return 4;
    case 4: return twice(-1);
    case 5: return 91;
    case 6: return twice(value);
    case 7: return 23;
    case 8: return twice(44);
    case 9: return 5;
    case 10: return twice(12);
    case 11: return 77;
    default: return -1;
    }
}

/* 7. main may call anything: it runs in thread context. */
void use_vectored_table(void);

int main(void)
{
#if defined(FWH_ARCH_RISCV)
    use_vectored_table();
#endif
    printf("main %d\n", scenario_switch(g_input));
    puts("done");
    return 0;
}
