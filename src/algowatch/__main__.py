"""``python -m algowatch``: the same as the ``algowatch`` command."""

from algowatch.cli import run

run()
