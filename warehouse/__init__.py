"""The DuckDB warehouse: schema migrations, raw capture store, quality gates and loaders."""
