// zlib is linked as a system library; these wrappers expose its init macros to Swift, plus two GNU
// extensions the tar code needs that Swift's Glibc module hides (it is built without _GNU_SOURCE).
#define _GNU_SOURCE
#include <stdlib.h>
#include <unistd.h>
#include "CZlib.h"

int czlib_inflate_init(z_streamp stream, int windowBits) {
    return inflateInit2(stream, windowBits);
}

int czlib_deflate_init(z_streamp stream, int level, int windowBits) {
    return deflateInit2(stream, level, Z_DEFLATED, windowBits, 8, Z_DEFAULT_STRATEGY);
}

ssize_t czlib_copy_file_range(int fd_in, int fd_out, size_t length) {
    return copy_file_range(fd_in, NULL, fd_out, NULL, length, 0);
}

int czlib_mkostemp(char *path_template, int flags) {
    return mkostemp(path_template, flags);
}
