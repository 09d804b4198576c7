/* Pieces of the machine-readable fault line:
 *   FWH-FAULT v=1 arch=arm ... key=0x0000abcd ... stack@0x20000400=w0,w1,...
 * Everything is printed with fwh_puts, which needs no stack beyond a small buffer. */
#include <stdint.h>

#include "runtime.h"

void fwh_fault_field(const char *key, uint32_t value)
{
    fwh_puts(" ");
    fwh_puts(key);
    fwh_puts("=");
    fwh_put_hex(value);
}

void fwh_fault_words(const char *key, uint32_t address, uint32_t count)
{
    fwh_puts(" ");
    fwh_puts(key);
    fwh_puts("@");
    fwh_put_hex(address);
    fwh_puts("=");
    const volatile uint32_t *word = (const volatile uint32_t *)address;
    for (uint32_t i = 0; i < count; ++i) {
        if (i != 0u) {
            fwh_puts(",");
        }
        fwh_put_hex(word[i]);
    }
}
