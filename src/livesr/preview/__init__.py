"""preview (in progress)."""
