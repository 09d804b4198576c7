/* HAL-style callbacks stored at run time: hal_uart_receive_dma stores constants into the
 * DMA handle (stm32 HAL_UART_Receive_DMA's shape), hal_dma_register_callback stores its
 * argument (HAL_DMA_RegisterCallback's), and the DMA interrupt calls them. */
#include "fixture.h"

static uint32_t s_rx_regs, s_tx_regs;
dma_handle_t g_dma_rx = {&s_rx_regs, 0, 0, 0, 0};
dma_handle_t g_dma_tx = {&s_tx_regs, 0, 0, 0, 0};
uart_handle_t g_huart = {&g_dma_rx, 0};

static void uart_dma_receive_cplt(dma_handle_t *h)
{
    uart_handle_t *huart = h->Parent;
    huart->received++;
}

static void uart_dma_error(dma_handle_t *h)
{
    puts("dma error");
    h->regs[1] = 0;
}

static void tx_done(dma_handle_t *h)
{
    free(h->Parent);
}

__attribute__((noinline)) void hal_uart_receive_dma(uart_handle_t *huart)
{
    huart->hdmarx->XferCpltCallback = uart_dma_receive_cplt;
    huart->hdmarx->XferErrorCallback = uart_dma_error;
    huart->hdmarx->Parent = huart;
}

__attribute__((noinline)) void hal_dma_register_callback(dma_handle_t *h, int id,
                                                         void (*cb)(dma_handle_t *h))
{
    if (id == 0)
        h->XferCpltCallback = cb;
    else
        h->XferErrorCallback = cb;
}

__attribute__((noinline)) void hal_dma_irq_handler(dma_handle_t *h)
{
    uint32_t flags = *h->regs;
    if (flags & 1u) {
        if (h->XferCpltCallback != 0)
            h->XferCpltCallback(h);
    } else if (flags & 2u) {
        if (h->XferErrorCallback != 0)
            h->XferErrorCallback(h);
    } else if (h->XferAbortCallback != 0) {
        h->XferAbortCallback(h);     /* never set anywhere: the call cannot run */
    }
}

__attribute__((noinline)) void hal_setup_tx(void)
{
    g_dma_tx.Parent = &g_huart;
    hal_dma_register_callback(&g_dma_tx, 1, tx_done);
}
