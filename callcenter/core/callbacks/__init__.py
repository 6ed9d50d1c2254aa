"""Callbacks (pure): the number to call, when to offer, what an attempt's outcome means."""
