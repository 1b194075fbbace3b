"""train (in progress)."""
