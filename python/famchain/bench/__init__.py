"""Benchmarks: gas against a naive baseline, throughput against the devnet's own limit, and scale."""
