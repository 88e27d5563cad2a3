"""Core models. Each mechanism keeps its models in its own module, re-exported here."""

from .base import TimeStampedModel, UUIDModel

__all__ = ["TimeStampedModel", "UUIDModel"]
