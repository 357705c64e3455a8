#define _GNU_SOURCE
#include "CStudioInit.h"

#include <fcntl.h>
#include <link.h>
#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>

// The executable's writable segments (.data, Swift's writable .rodata, .data.rel.ro) are private
// file mappings: a page that was only read is the page cache's page, mapped with the kernel's
// fault-around 64 KiB at a time, and it stays resident as long as the process lives. A page that
// was written is an anonymous copy and must stay. /proc/self/pagemap tells them apart: bit 63 is
// "present", bit 61 "file page" (not an anonymous copy).
enum { PAGEMAP_PRESENT = 63, PAGEMAP_FILE = 61, PAGEMAP_BATCH = 512 };

static void release_clean_pages(int pagemap, uintptr_t start, uintptr_t end, long page) {
    uint64_t entries[PAGEMAP_BATCH];
    uintptr_t run = 0; // start of the current run of clean file pages, 0 if none
    for (uintptr_t address = start; address < end; ) {
        size_t count = (end - address) / (uintptr_t)page;
        if (count > PAGEMAP_BATCH) count = PAGEMAP_BATCH;
        off_t offset = (off_t)(address / (uintptr_t)page) * (off_t)sizeof(uint64_t);
        ssize_t got = pread(pagemap, entries, count * sizeof(uint64_t), offset);
        if (got <= 0) break;
        count = (size_t)got / sizeof(uint64_t);
        for (size_t i = 0; i < count; i++, address += (uintptr_t)page) {
            int clean = (entries[i] >> PAGEMAP_PRESENT & 1) && (entries[i] >> PAGEMAP_FILE & 1);
            if (clean && run == 0) run = address;
            if (!clean && run != 0) {
                (void)madvise((void *)run, address - run, MADV_DONTNEED);
                run = 0;
            }
        }
    }
    if (run != 0) (void)madvise((void *)run, end - run, MADV_DONTNEED);
}

// The executable's PT_LOAD segments (the first object dl_iterate_phdr reports, not the vDSO),
// copied out: the program headers live in the first code page, which the release drops.
enum { MAX_SEGMENTS = 16 };
struct segments { int count; uintptr_t start[MAX_SEGMENTS], end[MAX_SEGMENTS]; int writable[MAX_SEGMENTS]; };

static int collect_segments(struct dl_phdr_info *info, size_t size, void *raw) {
    (void)size;
    struct segments *segments = raw;
    for (int i = 0; i < info->dlpi_phnum && segments->count < MAX_SEGMENTS; i++) {
        const ElfW(Phdr) *header = &info->dlpi_phdr[i];
        if (header->p_type != PT_LOAD) continue;
        segments->start[segments->count] = info->dlpi_addr + header->p_vaddr;
        segments->end[segments->count] = info->dlpi_addr + header->p_vaddr + header->p_memsz;
        segments->writable[segments->count] = (header->p_flags & PF_W) != 0;
        segments->count++;
    }
    return 1;
}

// Whole pages only, so a page shared with a neighbouring segment is never dropped. The writable
// segments first and the code last: what runs after the code's madvise faults its pages back in.
static int release_executable_pages(int include_clean_data) {
    long page = sysconf(_SC_PAGESIZE);
    if (page <= 0) return -1;
    struct segments segments = { .count = 0 };
    dl_iterate_phdr(collect_segments, &segments);
    uintptr_t mask = ~(uintptr_t)(page - 1);
    int pagemap = include_clean_data ? open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC) : -1;
    for (int pass = 0; pass < 2; pass++) {
        for (int i = 0; i < segments.count; i++) {
            if (segments.writable[i] != (pass == 0)) continue;
            uintptr_t start = (segments.start[i] + (uintptr_t)page - 1) & mask;
            uintptr_t end = segments.end[i] & mask;
            if (end <= start) continue;
            if (!segments.writable[i]) (void)madvise((void *)start, end - start, MADV_DONTNEED);
            else if (pagemap >= 0) release_clean_pages(pagemap, start, end, page);
        }
        if (pass == 0 && pagemap >= 0) close(pagemap);
    }
    return 0;
}

int studio_release_code_pages(void) { return release_executable_pages(0); }

int studio_release_clean_executable_pages(void) { return release_executable_pages(1); }

int studio_wait_signal_after_releasing_pages(long timeout_ms) {
    (void)release_executable_pages(1);
    return studio_wait_signal(timeout_ms);
}
