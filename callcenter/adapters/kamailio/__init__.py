"""Kamailio in front of the Asterisk nodes: its configuration and its process."""
