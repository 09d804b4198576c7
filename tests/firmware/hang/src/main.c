/* Never returns and never calls fwh_exit. */
#include "fwharden.h"

int main(void)
{
    fwh_puts("hang: waiting forever\n");
    for (;;) {
    }
}
