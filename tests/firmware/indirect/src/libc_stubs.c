/* Stand-ins with the names and prototypes of the C library functions the rules know (the
 * project links no libc); the verifier judges a call by the callee's name. */
#include <stddef.h>

static char s_heap[256];
static size_t s_used;
volatile int g_out;

__attribute__((noinline)) void *malloc(size_t size)
{
    void *p = &s_heap[s_used];
    s_used += size;
    return s_used <= sizeof s_heap ? p : 0;
}

__attribute__((noinline)) void free(void *p)
{
    g_out = (int)(size_t)p;
}

__attribute__((noinline)) int puts(const char *s)
{
    while (*s)
        g_out = *s++;
    return 0;
}

__attribute__((noinline)) int printf(const char *format, ...)
{
    return puts(format);
}

__attribute__((noinline)) int strncmp(const char *a, const char *b, size_t n)
{
    for (; n && *a && *a == *b; n--, a++, b++)
        ;
    return n ? *(const unsigned char *)a - *(const unsigned char *)b : 0;
}
