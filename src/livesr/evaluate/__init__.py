"""evaluate (in progress)."""
