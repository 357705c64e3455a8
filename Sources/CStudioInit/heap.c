#include "CStudioInit.h"

#include <malloc.h>

int studio_release_free_heap(void) { return malloc_trim(0); }
