"""Small helpers shared across mmseg_fdacl."""

__all__ = []
