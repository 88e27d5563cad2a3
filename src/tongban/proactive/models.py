"""Models of the proactive app."""
