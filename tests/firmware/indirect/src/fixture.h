/* Types shaped like the ST USB device library, a driver ops table and the STM32 HAL DMA
 * handle: the call sites load a function pointer from a member of these structs. */
#ifndef FIXTURE_H
#define FIXTURE_H
#include <stddef.h>
#include <stdint.h>

/* The C library functions the rules know (libc_stubs.c: the project links no libc). */
void *malloc(size_t size);
void free(void *p);
int puts(const char *s);
int printf(const char *format, ...);
int strncmp(const char *a, const char *b, size_t n);

/* USB class table: pdev->pClass->Init(pdev, cfgidx) as in usbd_core.c. */
typedef struct device device_t;
typedef struct {
    uint8_t (*Init)(device_t *dev, uint8_t cfgidx);
    uint8_t (*DeInit)(device_t *dev, uint8_t cfgidx);
    uint8_t (*Setup)(device_t *dev, const uint8_t *request);
} class_ops_t;
typedef struct {
    uint8_t *(*DeviceDescriptor)(uint8_t speed, uint16_t *length);
    uint8_t *(*LangIDDescriptor)(uint8_t speed, uint16_t *length);
} descriptors_t;
struct device {
    uint32_t state;
    const descriptors_t *pDesc;
    class_ops_t *pClass;
    void *pClassData;
};
extern class_ops_t CDC_Class;
extern const descriptors_t FS_Desc;
extern device_t g_usb;
uint8_t usb_set_config(device_t *dev, uint8_t cfgidx);
uint8_t *usb_get_descriptor(device_t *dev, uint16_t *length);

/* A driver ops table reached through an array of initialised device structs. */
struct uart;
struct uart_ops {
    int (*write)(struct uart *u, int c);
    int (*ioctl)(struct uart *u, int request);
    int (*read)(struct uart *u);
};
struct uart {
    const struct uart_ops *ops;
    int id;
};
extern struct uart g_uarts[2];
int uart_write(int index, int c);

/* A HAL-style DMA handle whose callbacks the code stores at run time. */
typedef struct dma_handle {
    volatile uint32_t *regs;
    void (*XferCpltCallback)(struct dma_handle *h);
    void (*XferErrorCallback)(struct dma_handle *h);
    void (*XferAbortCallback)(struct dma_handle *h);
    void *Parent;
} dma_handle_t;
typedef struct {
    dma_handle_t *hdmarx;
    uint32_t received;
} uart_handle_t;
extern dma_handle_t g_dma_rx, g_dma_tx;
extern uart_handle_t g_huart;
void hal_uart_receive_dma(uart_handle_t *huart);
void hal_dma_register_callback(dma_handle_t *h, int id, void (*cb)(dma_handle_t *h));
void hal_dma_irq_handler(dma_handle_t *h);
void hal_setup_tx(void);

/* A function pointer set from an integer: only its type says where it can go. */
extern void (*g_hook)(int code);
void install_hook(void);
void fire(int code);
extern int (*volatile g_compare)(const char *a, const char *b, unsigned n);

#endif
