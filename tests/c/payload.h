/* The payload pattern of `dmp produce` / `dmp consume`: event number i in
 * the first 8 bytes (native order), then byte k = (uint8_t)(i * 31) + k. */
#ifndef DMP_TEST_PAYLOAD_H
#define DMP_TEST_PAYLOAD_H
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Sleeps RING_GAP_US microseconds (environment; nothing when unset), so
 * that the peer falls asleep between this program's calls and each call
 * has to wake it. */
static inline void gap(void) {
    const char *us = getenv("RING_GAP_US");
    long n = us != NULL ? atol(us) : 0;
    if (n > 0) {
        struct timespec t = {n / 1000000, (n % 1000000) * 1000};
        nanosleep(&t, NULL);
    }
}

static inline void fill_payload(uint64_t i, uint8_t *slot, uint32_t size) {
    uint8_t head[8];
    memcpy(head, &i, 8);
    memcpy(slot, head, size < 8 ? size : 8);
    for (uint32_t k = 8; k < size; k++) {
        slot[k] = (uint8_t)((uint8_t)(i * 31u) + (uint8_t)k);
    }
}

/* Returns 0 and the event number in *out when the payload is intact. */
static inline int check_payload(const uint8_t *slot, uint32_t size, uint64_t *out) {
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
