"""Benchmarks of the Message Log Service (`make bench`): figures, targets, bench/RESULTS.md."""
