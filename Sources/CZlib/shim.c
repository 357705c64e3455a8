// zlib is linked as a system library; this file only gives the target a source.
