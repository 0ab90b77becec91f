"""The jobs ringwatch does, in plain typed Python: sync a source, backfill, import an Atlas
export, reparse. No Prefect here: the CLI runs these in-process, and the Prefect flows in
flows/orchestration/ wrap the same functions, turning their steps into tasks (steps.StepRunner).

Every job gets its captures its own way (the live site, a saved file, the Wayback Machine,
an Atlas export, the stored copy), keeps their bytes, then hands them to the one ingest
(ingest.py), which parses, checks, loads and finishes the run's Attempt. Each job takes a
progress callback and returns a typed result."""
