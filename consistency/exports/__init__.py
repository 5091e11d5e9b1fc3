"""Consensus datasets out: rows, stable stratified splits, file formats, snapshots."""
