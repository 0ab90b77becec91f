"""Fetch and parse Ring's public pages; the only package that touches the network."""

import logging

__version__ = "0.1.0"

# A library logs; whoever runs it decides where the lines go (the CLI, or Prefect's run log).
logging.getLogger(__name__).addHandler(logging.NullHandler())
