/* The event pattern every example (and `dmp produce` / `dmp consume`, and
 * the Python package) uses, so that any language can verify what another
 * wrote: event number i in the first 8 bytes (native byte order), then
 * byte k = (uint8_t)(i * 31 + k) up to the end of the slot. */
#ifndef DMP_EXAMPLE_PAYLOAD_H
#define DMP_EXAMPLE_PAYLOAD_H

#include <stdint.h>
#include <string.h>

/* Writes event number i into a slot of `size` bytes. */
static inline void payload_fill(uint64_t i, uint8_t *slot, uint32_t size) {
    memcpy(slot, &i, size < 8 ? size : 8);
    for (uint32_t k = 8; k < size; k++) {
        slot[k] = (uint8_t)((uint8_t)(i * 31u) + (uint8_t)k);
    }
}

/* Returns 0 and the event number in *out if the slot holds an intact
 * event, -1 otherwise. */
static inline int payload_check(const uint8_t *slot, uint32_t size, uint64_t *out) {
    uint64_t i = 0;
    memcpy(&i, slot, size < 8 ? size : 8);
    for (uint32_t k = 8; k < size; k++) {
        if (slot[k] != (uint8_t)((uint8_t)(i * 31u) + (uint8_t)k)) {
            return -1;
        }
    }
    *out = i;
    return 0;
}

#endif
