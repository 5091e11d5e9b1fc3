"""Several classes per answer: per-class and Jaccard agreement, per-class majority consensus."""
