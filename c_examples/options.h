/* Small command-line helpers shared by the examples. */
#ifndef DMP_EXAMPLE_OPTIONS_H
#define DMP_EXAMPLE_OPTIONS_H

#include "disruptor_mp.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Prints what failed, the status and the library's detailed message. */
static inline int example_fail(const char *program, const char *what, int32_t status) {
    fprintf(stderr, "%s: %s: %s: %s\n", program, what, dmp_status_str(status), dmp_last_error_message());
    return 1;
}

/* Parses an unsigned decimal number; exits with a message if it is not one. */
static inline uint64_t example_number(const char *program, const char *option, const char *text) {
    char *end = NULL;
    if (text == NULL || *text == '\0') {
        fprintf(stderr, "%s: %s needs a value\n", program, option);
        exit(2);
    }
    unsigned long long v = strtoull(text, &end, 10);
    if (*end != '\0') {
        fprintf(stderr, "%s: %s: not a number: %s\n", program, option, text);
        exit(2);
    }
    return (uint64_t)v;
}

/* Maps spin / yield / sleep / block to DMP_WAIT_*; exits on anything else. */
static inline uint32_t example_wait(const char *program, const char *text) {
    if (text != NULL && strcmp(text, "spin") == 0) return DMP_WAIT_BUSY_SPIN;
    if (text != NULL && strcmp(text, "yield") == 0) return DMP_WAIT_YIELD;
    if (text != NULL && strcmp(text, "sleep") == 0) return DMP_WAIT_SLEEP;
    if (text != NULL && strcmp(text, "block") == 0) return DMP_WAIT_BLOCKING;
    fprintf(stderr, "%s: --wait: expected spin, yield, sleep or block\n", program);
    exit(2);
}

#endif
