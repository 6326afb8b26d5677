"""`make bench`: training time, held-out NLU quality, turn latency and memory.

Reports only; it never fails on slowness (see bench/run.py). Importing this
package imports neither Rasa nor the servers, so the metric helpers in
bench/metrics.py stay cheap to unit test.
"""
