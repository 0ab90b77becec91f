"""The jobs ringwatch does, in plain typed Python: sync a source, backfill, import an Atlas
export, reparse. No Prefect here: the CLI runs these in-process, and the Prefect flows in
flows/*.py wrap the same functions, turning their steps into tasks (see steps.StepRunner).
Each job takes a progress callback and returns a typed result."""
