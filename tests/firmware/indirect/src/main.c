/* One handler per case (mps2-an386 IRQ handlers); main sets up the run-time state. */
#include "fixture.h"

volatile int g_index;
volatile uint16_t g_length;

void UART0RX_IRQHandler(void)      /* USB class table: reaches malloc through cdc_init */
{
    uint16_t length;
    usb_set_config(&g_usb, 1);
    usb_get_descriptor(&g_usb, &length);
    g_length = length;
}

void UART0TX_IRQHandler(void)      /* driver ops: write only, never ioctl's printf */
{
    uart_write(g_index, 'x');
}

void UART1RX_IRQHandler(void)      /* HAL DMA callbacks: uart_dma_error's puts, tx_done's free */
{
    hal_dma_irq_handler(&g_dma_rx);
    hal_dma_irq_handler(&g_dma_tx);
}

void UART1TX_IRQHandler(void)      /* g_hook by type: on_notify, not compare_names */
{
    fire(g_index);
}

int main(void)
{
    g_usb.pClass = &CDC_Class;
    g_usb.pDesc = &FS_Desc;
    hal_uart_receive_dma(&g_huart);
    hal_setup_tx();
    install_hook();
    return g_compare("a", "b", 1);
}
