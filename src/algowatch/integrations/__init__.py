"""Adapters that turn the native messages of trading frameworks into algowatch events.

Each adapter lives in its own module and needs its own optional extra; importing this
package imports none of them.
"""

__all__: list[str] = []
