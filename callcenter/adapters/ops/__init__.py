"""Operating the call center on a host: service units, log rotation, backups."""
