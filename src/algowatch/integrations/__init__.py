"""Integrations that watch the trading frameworks people already run, each behind an extra."""
