"""Prometheus metrics: the call center's figures for a scraper, on loopback."""
