"""Side-by-side benchmarks of Shieldwall against its peers (``make bench``).

Workloads W1 (ingest), W2 (read), scaling and W7 (concurrency) from
``docs/benchmarks.md``: every server runs as its own process on a loopback port, the same
client code and the same data drive both, runs alternate between the peers, and the
report gives ratios measured side by side plus the absolute figures. W3 (match), W4
(compile), W5 (private lookup) and W6 (memory) run in process, each in a fresh process
with its peer side by side in it (``bench.workloads.matching``, ``bench.workloads.lookup``).
"""
