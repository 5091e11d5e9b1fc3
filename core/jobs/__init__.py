"""Background jobs: the Job row, the one lifecycle, the runner registry, one task, the reaper."""
