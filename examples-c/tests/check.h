/* Tiny test helpers shared by the C tests: each check reports the file, line, the call,
 * the status it returned and eve's last error message, and the test keeps going so that
 * one run shows every failure. */
#ifndef EVE_TEST_CHECK_H
#define EVE_TEST_CHECK_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "eve.h"

static int check_failures = 0;

#define CHECK(cond)                                                                  \
    do {                                                                             \
        if (!(cond)) {                                                               \
            fprintf(stderr, "%s:%d: failed: %s\n", __FILE__, __LINE__, #cond);       \
            check_failures++;                                                        \
        }                                                                            \
    } while (0)

/* Expects `call` to return `expected`; on a failure status also expects a message. */
#define CHECK_STATUS(call, expected)                                                 \
    do {                                                                             \
        eve_status got_ = (call);                                                    \
        if (got_ != (expected)) {                                                    \
            fprintf(stderr, "%s:%d: %s returned %s, expected %s (%s)\n", __FILE__,   \
                    __LINE__, #call, eve_status_name(got_), eve_status_name(expected), \
                    eve_last_error_message());                                       \
            check_failures++;                                                        \
        } else if (got_ != EVE_OK && eve_last_error_message()[0] == '\0') {          \
            fprintf(stderr, "%s:%d: %s failed without a message\n", __FILE__,        \
                    __LINE__, #call);                                                \
            check_failures++;                                                        \
        }                                                                            \
    } while (0)

#define CHECK_OK(call) CHECK_STATUS(call, EVE_OK)

/* The message of the last failure contains `part`. */
#define CHECK_MESSAGE(part) CHECK(strstr(eve_last_error_message(), (part)) != NULL)

static inline eve_bytes bytes_of(const char *text) {
    eve_bytes b = {(const uint8_t *)text, strlen(text)};
    return b;
}

static inline int bytes_equal(eve_bytes b, const char *text) {
    return b.data != NULL && b.len == strlen(text) && memcmp(b.data, text, b.len) == 0;
}

/* A fresh path for a slab file under the build's temporary directory. */
static inline void temp_slab_path(char *path, size_t size, const char *name) {
    const char *dir = getenv("TMPDIR");
    snprintf(path, size, "%s/eve-ctest-%s-%ld.slab", dir ? dir : "/tmp", name, (long)getpid());
    unlink(path);
}

static inline int finish(const char *suite) {
    if (check_failures) {
        fprintf(stderr, "%s: %d check(s) failed\n", suite, check_failures);
        return 1;
    }
    printf("%s: all checks passed\n", suite);
    return 0;
}

#endif
