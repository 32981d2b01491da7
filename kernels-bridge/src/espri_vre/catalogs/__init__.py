"""Server side of catalogues: reachability checks, the allow-listed proxy, intake-esm tables."""
