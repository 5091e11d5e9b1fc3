"""Pure numpy/pandas metrics: agreement, consensus, HLP and disagreement scores.

Nothing in this package imports Django or any other part of Concord. Inputs are arrays or an
annotations frame with the columns ``item``, ``labeler``, ``value`` (:mod:`.frames`, the one
frame check); outputs are numbers, arrays and frames. Django code reaches it through
``consistency.services``.

Cut by the shape of the answers, each with its agreement, consensus and HLP:

* :mod:`.categorical` — classes and ratings: kappas, AC1, per-class agreement, merges
  (``agreement``), majority vote and the consensus frame (``consensus``), Dawid–Skene
  (``dawid_skene``), leave-one-out HLP (``hlp``), CROWDLAB label quality (``label_quality``) and
  the labeler estimates of adaptive overlap (``labeler_estimates``);
* :mod:`.boxes` — IoU matching and box alpha, fused boxes, F1 HLP;
* :mod:`.transcripts` — standardization rules (``rules``), WER/CER and edit-distance alpha, the
  medoid, word-accuracy HLP;
* :mod:`.multilabel` — per-class binary and Jaccard alpha, per-class majority;

plus :mod:`.stats`, what every shape shares: value counts and coincidences (``counts``),
Krippendorff's alpha (``alpha``), bootstraps (``bootstrap``), HLP from error/total scores
(``scores``) and the pre-label anchoring comparison (``anchoring``); and :mod:`.gap`, the model's
gap to HLP per slice for any shape.
"""
