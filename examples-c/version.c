/* Prints the library version and checks that it matches the header it was compiled with. */
#include <stdio.h>
#include <string.h>

#include "eve.h"

int main(void) {
    printf("eve %s (header %s)\n", eve_version(), EVE_VERSION_STRING);
    if (strcmp(eve_version(), EVE_VERSION_STRING) != 0) {
        fprintf(stderr, "libeve %s does not match eve.h %s\n", eve_version(), EVE_VERSION_STRING);
        return 1;
    }
    return 0;
}
