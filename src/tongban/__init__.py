"""Tongban (通办): one network for all government services."""

__version__ = "0.1.0"
