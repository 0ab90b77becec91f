"""python -m ringwatch.flows.cli, as the tests' subprocesses run it."""

from ringwatch.flows.cli.app import cli

cli()
