"""Subcommands of ``backpain-cds``: one module each, each with ``register(subparsers)``."""
