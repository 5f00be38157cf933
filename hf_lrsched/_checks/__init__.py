"""Checks: the vocabulary every message uses (``validation``), each schedule's options pass (``options``),
and the checks for factories that check nothing themselves (``foreign``)."""
