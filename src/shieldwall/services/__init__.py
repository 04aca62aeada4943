"""Use cases. They own the transaction boundary and reach storage only through ``ports``."""
