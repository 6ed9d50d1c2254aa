"""Timed jobs (APScheduler on the controller's event loop). Jobs call services, never adapters."""
