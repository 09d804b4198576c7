/* Every priority set in a loop through a pointer (as start-up code often does), then
 * one changed. Unrolled (-O2) the stores have constant addresses; rolled (-O0) the
 * pointer moves, and the verifier must see a store at a computed address, not nothing. */
#include <stdint.h>

volatile uint32_t events;

void EXTI0_IRQHandler(void) { events += 1; }
void EXTI1_IRQHandler(void) { events += 2; }
void EXTI2_IRQHandler(void) { events += 3; }

int main(void)
{
    volatile uint32_t *ipr = (volatile uint32_t *)0xE000E400u;
    for (uint32_t i = 0; i < 8u; ++i) {
        ipr[i] = 0x80808080u;                       /* EXPECT EXTI1_IRQHandler 8 */
    }                                               /* EXPECT EXTI2_IRQHandler 8 */
    ((volatile uint8_t *)0xE000E400u)[6] = 0;       /* EXPECT EXTI0_IRQHandler 0 */
    for (;;) {
    }
}
