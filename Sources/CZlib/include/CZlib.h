#pragma once
#include <zlib.h>
#include <sys/types.h>

/// inflateInit2 is a macro Swift cannot call; windowBits 47 accepts gzip or zlib streams.
int czlib_inflate_init(z_streamp stream, int windowBits);

/// deflateInit2 is a macro Swift cannot call; windowBits 31 writes a gzip stream.
int czlib_deflate_init(z_streamp stream, int level, int windowBits);

/// copy_file_range(2) from the current offsets (a GNU extension Glibc's Swift module does not export).
ssize_t czlib_copy_file_range(int fd_in, int fd_out, size_t length);

/// mkostemp(3) (a GNU extension Glibc's Swift module does not export).
int czlib_mkostemp(char *path_template, int flags);
