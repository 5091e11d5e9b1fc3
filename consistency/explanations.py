"""What each figure means, in a sentence, and its scale: shown on hover or focus next to the
figure, with a link to its section of docs/agreement.md (served at /help/agreement/). And a
review's status in people's words."""

from dataclasses import dataclass

from consistency.models import ReviewStatus


@dataclass(frozen=True)
class Term:
    name: str
    text: str
    scale: str
    anchor: str


TERMS = {
    "alpha": Term(
        "Krippendorff's alpha",
        "How much more labelers agree than chance would give; any number of labelers, missing answers fine.",
        "−1 to 1 · ≥ 0.800 reliable · 0.667–0.800 tentative · < 0.667 unreliable",
        "alpha",
    ),
    "percent_agreement": Term(
        "Percent agreement",
        "The share of answer pairs on an item that agree. Not corrected for chance.",
        "0 to 1 · read it next to alpha: a common class inflates it",
        "percent-agreement",
    ),
    "cohen_kappa": Term(
        "Cohen's kappa",
        "Agreement of one pair of labelers on the items both answered, corrected for chance.",
        "−1 to 1 · 0 chance · 0.41–0.60 moderate · 0.61–0.80 substantial · > 0.80 almost perfect",
        "cohen-kappa",
    ),
    "fleiss_kappa": Term(
        "Fleiss' kappa",
        "Chance-corrected agreement of all labelers at once; drops when one class is very common.",
        "−1 to 1 · 0 chance · 0.61–0.80 substantial · > 0.80 almost perfect",
        "fleiss-kappa",
    ),
    "gwet_ac1": Term(
        "Gwet's AC1",
        "Chance-corrected agreement that stays stable when classes are skewed.",
        "−1 to 1 · same bands as kappa · high AC1 with low kappa: unbalanced classes",
        "gwet-ac1",
    ),
    "hlp": Term(
        "HLP",
        "Human-level performance: each answer judged by the other labelers of its item (leave-one-out).",
        "0 to 1 (shown as %) · the bar a model can be expected to reach",
        "hlp",
    ),
    "gap": Term(
        "Gap to HLP",
        "HLP − model accuracy on a slice. Negative: the model already does better than people there.",
        "percentage points · potential = gap × share of data",
        "gap",
    ),
    "iou": Term(
        "IoU",
        "Overlap of two boxes divided by the area both cover; boxes match at IoU ≥ 0.5.",
        "0 (disjoint) to 1 (identical)",
        "iou",
    ),
    "wer": Term(
        "WER",
        "Word error rate: word edits / reference words, after the transcription rules. Accuracy = 1 − WER.",
        "0 identical · can exceed 1",
        "wer",
    ),
    "merge_gain": Term(
        "Gain",
        "Alpha after the merge − alpha now, on the same answers; a negative gain lowers agreement.",
        "signed · within alpha's interval: within noise",
        "merge-gain",
    ),
    "anchoring": Term(
        "Anchoring",
        "Answers given with the model's suggestion vs without it (a random held-out share).",
        "percentage points · an interval above 0: people copy the model",
        "anchoring",
    ),
}


STATUS_WORDS: dict[str, str] = {
    ReviewStatus.OPEN: "open",
    ReviewStatus.IN_REVIEW: "in review",
    ReviewStatus.RESOLVED: "resolved",
    ReviewStatus.LACKS_INFORMATION: "lacks information",
}


def status_words(status: str | None) -> str:
    """A review status as people say it: "lacks information", not ``lacks_information``."""
    return STATUS_WORDS.get(status or ReviewStatus.OPEN, str(status).replace("_", " "))
