"""Data resources, sharing grants and data-use records."""
