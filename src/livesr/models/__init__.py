"""models (in progress)."""
