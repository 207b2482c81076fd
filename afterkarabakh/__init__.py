"""Shared code for *After Karabakh*: validated data, the chart theme, maps and citations.

Chapters import what they need::

    from afterkarabakh import data, charts, maps
"""
