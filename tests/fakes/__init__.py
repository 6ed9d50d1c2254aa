"""In-memory stand-ins for the services' ports, for unit tests (no database, no Asterisk)."""
