"""Prefect flows and the CLI: the edges that wire scrapers and warehouse together."""
