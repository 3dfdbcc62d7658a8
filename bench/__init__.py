"""The load harness: real servers, real sockets, signed webhooks, and figures.

Run it with ``make bench`` (or ``python -m bench.run``); see docs/performance.md.
"""
