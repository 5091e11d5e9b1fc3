"""Pure numpy/pandas metrics: agreement, consensus, HLP and disagreement scores.

Nothing in this package imports Django. Inputs are arrays or an annotations
frame with the columns ``item``, ``labeler``, ``value``; outputs are numbers,
arrays and frames. Django code reaches it through ``consistency.services``.
"""
