"""Storage: SQLAlchemy Core over SQLite (default) and PostgreSQL; implements services/ports."""
