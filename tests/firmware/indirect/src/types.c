/* The member's values cannot be listed: main installs g_hook from an integer, a value the
 * analysis does not follow. The DWARF type of g_hook narrows the targets to address-taken
 * functions of its type: on_notify, never compare_names (address-taken too, it prints, and
 * its type differs). */
#include "fixture.h"

static volatile int s_last;

static void on_notify(int code)
{
    s_last = code;
}

static int compare_names(const char *a, const char *b, unsigned n)
{
    printf("compare %s %s\n", a, b);
    return strncmp(a, b, n);
}

void (*g_hook)(int code);
volatile uintptr_t g_hook_address = (uintptr_t)on_notify;
int (*volatile g_compare)(const char *a, const char *b, unsigned n) = compare_names;

__attribute__((noinline)) void install_hook(void)
{
    g_hook = (void (*)(int))g_hook_address;
}

__attribute__((noinline)) void fire(int code)
{
    g_hook(code);
}
