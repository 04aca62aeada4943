"""The workloads, each a function of a client (or clients), a collection and a budget."""
