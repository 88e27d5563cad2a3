"""Departmental registries (基础库)."""
