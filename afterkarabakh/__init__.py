"""Shared code for *After Karabakh*: validated data, the chart theme, maps and citations.

Chapters import what they need::

    from afterkarabakh import data, charts, maps

The edition (version and date) is stated once, in :mod:`afterkarabakh.edition`.
"""

from .edition import VERSION as __version__  # noqa: F401
