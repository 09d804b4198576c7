/* printf from thread code through the real C library: the library's own recursion
 * (newlib's __sfp -> __sinit -> __sfp) must get a finite bound from its model. */
#include <stdio.h>

#ifdef __PICOLIBC__
/* picolibc's tinystdio writes through a FILE the application provides. */
static int put_char(char c, FILE *file)
{
    (void)file;
    *(volatile char *)0x40004000 = c;
    return (unsigned char)c;
}
static FILE console = FDEV_SETUP_STREAM(put_char, NULL, NULL, _FDEV_SETUP_WRITE);
FILE *const stdout = &console;
#endif

int main(void)
{
    volatile int value = 42;
    printf("value %d\n", value);
    for (;;) {
    }
}
