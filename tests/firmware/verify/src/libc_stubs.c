/* Stand-ins with the names of the C library calls the rules forbid. Only the names
 * matter to the verifier; the bodies keep the compiler from deleting the calls. */
#include "scenarios.h"

static volatile unsigned sink;
static unsigned char arena[64];

KEEP void *malloc(unsigned size)
{
    sink += size;
    return &arena[sink & 31u];
}

KEEP void free(void *pointer)
{
    sink += (unsigned)(unsigned long)pointer;
}

KEEP int printf(const char *format, ...)
{
    sink += (unsigned)format[0];
    return 0;
}

KEEP int puts(const char *text)
{
    sink += (unsigned)text[0];
    return 0;
}
