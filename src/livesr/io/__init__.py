"""io (in progress)."""
