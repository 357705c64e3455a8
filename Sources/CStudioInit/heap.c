#include "CStudioInit.h"

#include <malloc.h>

int studio_release_free_heap(void) { return malloc_trim(0); }

int studio_limit_heap_arenas(int count) { return mallopt(M_ARENA_MAX, count); }
