"""What every answer shape shares: value counts, Krippendorff's alpha, bootstraps, error/total scores."""
