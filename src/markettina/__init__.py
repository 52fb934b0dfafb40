"""Markettina: the open-source backend for AI-assisted marketing."""

__version__ = "0.1.0"
