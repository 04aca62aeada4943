"""HTTP: TAXII 2.1 (``taxii/``), the REST API (``api/``), health and metrics."""
