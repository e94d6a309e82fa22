"""Benchmarks and the cost model (`make bench`): cold start, warm latency, round trips, cron scaling,
load, memory and dollars, measured in one run against the local stack and written to `bench/results.*`."""
