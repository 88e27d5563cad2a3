"""Models of the 12345 hotline."""
