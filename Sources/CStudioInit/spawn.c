#include "CStudioInit.h"
int studio_init_placeholder(void) { return 0; }
