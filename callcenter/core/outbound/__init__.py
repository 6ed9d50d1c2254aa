"""Outbound dialing, pure: numbers and zones, campaign settings, the compliance
check before each dial, pacing, retry rules and lead states, lead CSV parsing.
No I/O: the clock, DNC look-ups and live figures come in as arguments."""
