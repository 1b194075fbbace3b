"""distributed (in progress)."""
