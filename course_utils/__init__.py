"""Helpers for the adaptive-optimization course notebooks (see README.md for the map)."""

__version__ = "0.1.0"
