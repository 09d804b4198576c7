/* The stack map (written into .fwh_stackmap after the link) and what the runtime does
 * with it: paint the watermark regions at reset, measure high-water marks, keep mirror
 * snapshots of the top of each stack.
 *
 * The map is read through a volatile pointer: at compile time the reserved bytes are
 * zeros, and the compiler must not fold that into the code.
 */
#include <stdint.h>

#include "../fwharden.h"
#include "fault.h"
#include "runtime.h"

#define FWH_STACKMAP_MAGIC 0x53485746u /* "FWHS" */
#define FWH_STACKMAP_VERSION 1u

struct fwh_stackmap {
    uint32_t magic;
    uint16_t version;
    uint16_t count;
    uint32_t pattern;
    uint32_t flags;
    struct fwh_stack_desc stacks[];
};

extern const uint8_t __fwh_stackmap_start[];

static const volatile struct fwh_stackmap *stackmap(void)
{
    const volatile struct fwh_stackmap *map =
        (const volatile struct fwh_stackmap *)__fwh_stackmap_start;
    if (map->magic != FWH_STACKMAP_MAGIC || map->version != FWH_STACKMAP_VERSION) {
        return 0;
    }
    return map;
}

uint32_t fwh_stack_count(void)
{
    const volatile struct fwh_stackmap *map = stackmap();
    return map ? map->count : 0u;
}

const struct fwh_stack_desc *fwh_stack_descriptor(uint32_t id)
{
    const volatile struct fwh_stackmap *map = stackmap();
    if (map == 0) {
        return 0;
    }
    for (uint32_t i = 0; i < map->count; ++i) {
        if (map->stacks[i].id == id) {
            return (const struct fwh_stack_desc *)&map->stacks[i];
        }
    }
    return 0;
}

uint32_t fwh_watermark_pattern(void)
{
    const volatile struct fwh_stackmap *map = stackmap();
    return map ? map->pattern : 0u;
}

uint32_t fwh_stack_high_water(uint32_t id)
{
    const struct fwh_stack_desc *desc = fwh_stack_descriptor(id);
    if (desc == 0) {
        return 0xFFFFFFFFu;
    }
    uint32_t pattern = fwh_watermark_pattern();
    uint32_t top = desc->watermark_base + desc->watermark_size;
    const volatile uint32_t *word = (const volatile uint32_t *)desc->watermark_base;
    while ((uint32_t)word < top && *word == pattern) {
        ++word;
    }
    return top - (uint32_t)word;
}

/* A mirror slot holds the number of saved words, then the words: the topmost words of the
 * stack's used part (above the current SP for the stack the caller runs on, else up to
 * its high-water mark), at most as many as the slot holds. */
void fwh_mirror_snapshot_from(uint32_t sp)
{
    for (uint32_t id = 0; id < fwh_stack_count(); ++id) {
        const struct fwh_stack_desc *desc = fwh_stack_descriptor(id);
        if (desc == 0 || desc->mirror_size < 8u) {
            continue;
        }
        uint32_t top = desc->base + desc->size;
        uint32_t used = (sp > desc->base && sp <= top) ? top - sp : fwh_stack_high_water(id);
        uint32_t words = (desc->mirror_size - 4u) / 4u;
        if (used / 4u < words) {
            words = used / 4u;
        }
        volatile uint32_t *slot = (volatile uint32_t *)desc->mirror;
        const volatile uint32_t *from = (const volatile uint32_t *)top - words;
        slot[0] = words;
        for (uint32_t i = 0; i < words; ++i) {
            slot[1 + i] = from[i];
        }
    }
}

uint32_t fwh_mirror_check(void)
{
    uint32_t changed = 0;
    for (uint32_t id = 0; id < fwh_stack_count(); ++id) {
        const struct fwh_stack_desc *desc = fwh_stack_descriptor(id);
        if (desc == 0 || desc->mirror_size < 8u) {
            continue;
        }
        const volatile uint32_t *slot = (const volatile uint32_t *)desc->mirror;
        uint32_t words = slot[0];
        if (words > (desc->mirror_size - 4u) / 4u) {
            changed |= 1u << id;  /* the count itself was overwritten */
            continue;
        }
        const volatile uint32_t *from =
            (const volatile uint32_t *)(desc->base + desc->size) - words;
        for (uint32_t i = 0; i < words; ++i) {
            if (slot[1 + i] != from[i]) {
                changed |= 1u << id;
                break;
            }
        }
    }
    return changed;
}

/* Which stack a (faulting) address belongs to: its guard or its body; FWH_STACK_NONE: none. */
uint32_t fwh_stack_of(uint32_t address)
{
    for (uint32_t id = 0; id < fwh_stack_count(); ++id) {
        const struct fwh_stack_desc *desc = fwh_stack_descriptor(id);
        if (desc != 0 && address >= desc->guard_base && address < desc->base + desc->size) {
            return id;
        }
    }
    return FWH_STACK_NONE;
}

/* The guard (not the body) holds `address`. */
uint32_t fwh_in_guard(uint32_t address)
{
    for (uint32_t id = 0; id < fwh_stack_count(); ++id) {
        const struct fwh_stack_desc *desc = fwh_stack_descriptor(id);
        if (desc != 0 && address >= desc->guard_base &&
            address < desc->guard_base + desc->guard_size) {
            return 1u;
        }
    }
    return 0u;
}
