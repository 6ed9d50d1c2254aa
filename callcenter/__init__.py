"""On-premise voice call center: a Python controller driving Asterisk."""

__version__ = "0.1.0"
