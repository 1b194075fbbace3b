"""acquire (in progress)."""
