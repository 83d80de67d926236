"""Parvis: a self-hostable public square with rule-bound, provable moderation."""

__version__ = "0.1.0"
