"""The Prefect shell: flows, tasks, deployments and serve over the core jobs (flows/core).

Only this package imports Prefect; api.py asks whether a Prefect API is configured without
importing it, so the command line can decide cheaply.
"""
