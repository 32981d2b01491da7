"""Server side of data access: data roots, kerchunk references, Arrow slices of tables."""
