"""Maintenance tools (not imported by the service)."""
