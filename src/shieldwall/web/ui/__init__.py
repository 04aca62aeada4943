"""The web interface for analysts, liaisons and operators (server-rendered, under /ui)."""
