"""The DuckDB warehouse: schema migrations, raw capture store, quality gates and loaders."""

import logging

# A library logs; whoever runs it decides where the lines go (the CLI, or Prefect's run log).
logging.getLogger(__name__).addHandler(logging.NullHandler())
