/* Driver ops table: every device in g_uarts points at pl011_ops. write and ioctl have the
 * same type; only write is called from the interrupt, and only ioctl prints. */
#include "fixture.h"

static int pl011_write(struct uart *u, int c)
{
    *(volatile int *)(0x40004000 + 0x1000 * u->id) = c;
    return c;
}

static int pl011_ioctl(struct uart *u, int request)
{
    printf("uart%d ioctl %d\n", u->id, request);
    return 0;
}

static int pl011_read(struct uart *u)
{
    return *(volatile int *)(0x40004000 + 0x1000 * u->id);
}

static const struct uart_ops pl011_ops = {pl011_write, pl011_ioctl, pl011_read};
struct uart g_uarts[2] = {{&pl011_ops, 0}, {&pl011_ops, 1}};

__attribute__((noinline)) int uart_write(int index, int c)
{
    struct uart *u = &g_uarts[index & 1];
    return u->ops->write(u, c);
}
