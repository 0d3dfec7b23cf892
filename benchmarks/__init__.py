"""Latency, throughput and memory harness for backpain-cds (``make bench``)."""
