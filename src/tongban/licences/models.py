"""Models of the licences app."""
