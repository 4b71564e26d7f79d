"""Command implementations of the ``algowatch`` CLI (one module per command)."""
