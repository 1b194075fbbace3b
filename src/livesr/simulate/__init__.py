"""simulate (in progress)."""
