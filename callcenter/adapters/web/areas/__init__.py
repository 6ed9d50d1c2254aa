"""The console's areas, one module each: its JSON API (``api``, under /api) and
its pages (``pages``), as blueprints that app.py registers from one list.

Blueprints are named after their area: ``<area>_api`` for the API and
``<area>`` for the pages (the login pages keep the name ``pages``).
"""
