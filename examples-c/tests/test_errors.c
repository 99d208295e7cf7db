/* The error-reporting part of the ABI, as a C program sees it. */
#include <stdio.h>
#include <string.h>

#include "eve.h"

static int failures = 0;

#define CHECK(cond)                                                  \
    do {                                                             \
        if (!(cond)) {                                               \
            fprintf(stderr, "%s:%d: failed: %s\n", __FILE__, __LINE__, #cond); \
            failures++;                                              \
        }                                                            \
    } while (0)

int main(void) {
    CHECK(eve_version_major() == EVE_VERSION_MAJOR);
    CHECK(eve_version_minor() == EVE_VERSION_MINOR);
    CHECK(eve_version_patch() == EVE_VERSION_PATCH);
    CHECK(strcmp(eve_version(), EVE_VERSION_STRING) == 0);

    /* No call has failed on this thread yet. */
    CHECK(eve_last_error_message() != NULL);
    CHECK(strcmp(eve_last_error_message(), "") == 0);

    CHECK(EVE_OK == 0);
    CHECK(strcmp(eve_status_name(EVE_OK), "EVE_OK") == 0);
    CHECK(strcmp(eve_status_name(EVE_ERR_CORRUPT), "EVE_ERR_CORRUPT") == 0);
    CHECK(strcmp(eve_status_name(EVE_ERR_INTERNAL), "EVE_ERR_INTERNAL") == 0);
    CHECK(strcmp(eve_status_name(-1), "EVE_UNKNOWN_STATUS") == 0);
    CHECK(strcmp(eve_status_name(1000), "EVE_UNKNOWN_STATUS") == 0);

    if (failures) {
        fprintf(stderr, "%d check(s) failed\n", failures);
        return 1;
    }
    printf("all error-reporting checks passed\n");
    return 0;
}
