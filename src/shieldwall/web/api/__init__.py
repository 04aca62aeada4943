"""REST API (JSON, documented by OpenAPI at /api/openapi.json)."""
