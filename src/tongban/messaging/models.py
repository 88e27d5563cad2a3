"""Models of the messaging app."""
