/* The error-reporting part of the ABI, as a C program sees it. */
#include "check.h"

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

    return finish("test_errors");
}
