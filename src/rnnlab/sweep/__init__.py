"""Sweeps: many trainings over a grid of configurations, run by worker processes.

* run.py: `run_sweep` (what `rnnlab sweep` calls) and its progress events.
* workers.py: the worker processes, and the trial function's contract.
* study.py: a sweep as an Optuna study; each configuration completes once.
* storage.py, postgres.py: where the trials live (a journal file in the sweep
  folder, or PostgreSQL) and the locks that make sharing them safe.
* stats.py: summaries and paired comparisons of the results.

Importing this package imports nothing else (stats.py needs no Optuna).
"""
