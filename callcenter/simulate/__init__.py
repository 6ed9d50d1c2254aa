"""Real SIP peers for the demo, the tests and the benchmarks: SIPp callers
and baresip softphones, each on its own loopback address, stopped by PID."""
