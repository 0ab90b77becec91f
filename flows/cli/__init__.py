"""The command line: commands, options and what they print. `ringwatch` is cli."""

from ringwatch.flows.cli.app import cli

__all__ = ["cli"]
