import CStudioInit

/// The executable's read-only code pages. A static binary maps all of its code, and every page a
/// phase of work touches stays resident (with the kernel's fault-around, 64 KiB at a time) until
/// the process exits. Between phases (after start-up, between experiments) those pages can be
/// handed back: they stay in the page cache, shared, and come back on their next use.
public enum CodePages {
    /// Unmaps the resident pages of the read-only segments (MADV_DONTNEED); never writable memory.
    public static func releaseResident() {
        _ = studio_release_code_pages()
    }

    /// As `releaseResident`, and also the pages of the writable segments that were only read (the
    /// page cache's pages, not the copies of written ones): most of a static binary's resident data
    /// after start-up. Single-threaded processes only (the init): see studio_release_clean_executable_pages.
    public static func releaseResidentIncludingCleanData() {
        _ = studio_release_clean_executable_pages()
    }
}

/// The heap's free pages.
public enum FreeHeap {
    /// Returns the free pages of every malloc arena to the system; used memory is untouched.
    public static func release() {
        _ = studio_release_free_heap()
    }

    /// Lets all threads share `count` malloc arenas. A long-running worker's threads come and go
    /// (the concurrency pool, short-lived waiting threads); with an arena each, the few live
    /// allocations left in every arena keep its pages resident and the RSS creeps up.
    public static func limitArenas(to count: Int32) {
        _ = studio_limit_heap_arenas(count)
    }
}
