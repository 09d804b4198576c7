/* USB-class-style table: CDC_Class in .data (CubeMX's USBD_CDC is not const), FS_Desc in
 * .rodata; the device handle is filled in at run time (usb_register in main). */
#include "fixture.h"

static uint8_t s_device_desc[18], s_lang_desc[4];

static uint8_t cdc_init(device_t *dev, uint8_t cfgidx)
{
    dev->pClassData = malloc(64u + cfgidx);     /* ST's CDC class mallocs here too */
    return dev->pClassData == 0;
}

static uint8_t cdc_deinit(device_t *dev, uint8_t cfgidx)
{
    dev->state = cfgidx;
    return 0;
}

static uint8_t cdc_setup(device_t *dev, const uint8_t *request)
{
    dev->state = request[1];
    return 0;
}

static uint8_t *fs_device_descriptor(uint8_t speed, uint16_t *length)
{
    *length = sizeof s_device_desc + speed;
    return s_device_desc;
}

static uint8_t *fs_langid_descriptor(uint8_t speed, uint16_t *length)
{
    *length = sizeof s_lang_desc + speed;
    return s_lang_desc;
}

class_ops_t CDC_Class = {cdc_init, cdc_deinit, cdc_setup};
const descriptors_t FS_Desc = {fs_device_descriptor, fs_langid_descriptor};
device_t g_usb;

__attribute__((noinline)) uint8_t usb_set_config(device_t *dev, uint8_t cfgidx)
{
    if (dev->pClass == 0)
        return 2;
    return dev->pClass->Init(dev, cfgidx);
}

__attribute__((noinline)) uint8_t *usb_get_descriptor(device_t *dev, uint16_t *length)
{
    return dev->pDesc->DeviceDescriptor((uint8_t)dev->state, length);
}
