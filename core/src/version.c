#include "lucy/lucy.h"

const char *lucy_version(void) { return LUCY_VERSION_STRING; }
