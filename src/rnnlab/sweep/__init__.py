"""Sweeps: many trainings over a grid of configurations, or a search, run by worker processes.

From the command down:

* command.py: what `rnnlab sweep` and `rnnlab reproduce` call: the run, its
  progress lines, the bag-of-words baseline; grid.py turns options into the
  grid, search.py into a search (Optuna's TPE samples each trial's settings);
  identity.py names configurations and grids.
* run.py: `run_sweep`, which starts the workers and reports finished trials;
  workers.py: the worker processes; trial.py: what a worker does per trial
  (one training into a run folder).
* study.py: a sweep as an Optuna study, each configuration completed once;
  opening.py: a sweep's folder, storage and study, opened or created;
  storage.py, postgres.py: where the trials live (a journal file in the sweep
  folder, or PostgreSQL) and the locks that make sharing them safe.
* stats.py and summary.py: the statistics over seeds, and the summary files.

Importing this package imports nothing else.
"""
