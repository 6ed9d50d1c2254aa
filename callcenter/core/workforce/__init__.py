"""Workforce planning (pure): Erlang C and A staffing, interval forecasts."""
