"""Fetch and parse Ring's public pages; the only package that touches the network."""

__version__ = "0.1.0"
