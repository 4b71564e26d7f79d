"""Integrations that watch the trading frameworks people already run, each behind an extra."""

__all__: list[str] = []
