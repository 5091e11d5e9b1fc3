"""Transcript agreement: normalization, exact match, pairwise 1 − WER / 1 − CER (jiwer), alpha
with a normalized edit distance, and the medoid transcript as consensus.

Edit distances come from jiwer (no hand-written Levenshtein).
"""

import re
import string
from collections.abc import Sequence
from itertools import combinations

import jiwer
import numpy as np
import pandas as pd

_PUNCTUATION = re.compile(f"[{re.escape(string.punctuation.replace('[', '').replace(']', ''))}]")
MAX_RULES = 200
EXPECTED_PAIRS = 20_000


def compile_rules(rules: Sequence[dict]) -> list[tuple[re.Pattern | None, str, str]]:
    """Rules: [{"pattern": "Umm+", "replacement": "um", "regex": true}, ...], applied in order.

    Invalid regexes raise ValueError naming the rule.
    """
    if len(rules) > MAX_RULES:
        raise ValueError(f"at most {MAX_RULES} rules")
    compiled = []
    for index, rule in enumerate(rules, start=1):
        pattern, replacement = str(rule.get("pattern", "")), str(rule.get("replacement", ""))
        if not pattern:
            raise ValueError(f"rule {index}: empty pattern")
        if rule.get("regex"):
            try:
                compiled.append((re.compile(pattern, re.IGNORECASE), replacement, pattern))
            except re.error as exc:
                raise ValueError(f"rule {index}: invalid regular expression ({exc})") from exc
        else:
            compiled.append((None, replacement, pattern))
    return compiled


def normalize(text: str, rules: Sequence = ()) -> str:
    """Standardization rules first, then case, punctuation and whitespace ("[unintelligible]" kept)."""
    for regex, replacement, pattern in rules:
        text = regex.sub(replacement, text) if regex is not None else text.replace(pattern, replacement)
    text = _PUNCTUATION.sub(" ", text.lower())
    return " ".join(text.split())


def _distance(a: str, b: str) -> float:
    """Character edit distance normalized by the longer string, in [0, 1]."""
    if a == b:
        return 0.0
    if not a or not b:
        return 1.0
    out = jiwer.process_characters(a, b)
    edits = out.substitutions + out.deletions + out.insertions
    return min(1.0, edits / max(len(a), len(b)))


def _similarity(a: str, b: str, measure) -> float:
    if not a and not b:
        return 1.0
    if not a or not b:
        return 0.0
    return max(0.0, 1.0 - measure(a, b))


def transcript_agreement(frame: pd.DataFrame, rules: Sequence[dict] = (), *, seed: int = 0) -> dict:
    """Agreement of transcripts.

    frame : columns item, labeler, value (strings).
    returns : dict with exact_match (share of items whose normalized answers all match),
    word_similarity (mean pairwise 1 − WER), char_similarity (mean pairwise 1 − CER), alpha
    (Krippendorff's alpha with the normalized character distance; the expected disagreement is
    estimated on up to EXPECTED_PAIRS random pairs of values from different items), items_measured,
    and ``per_item`` (DataFrame: item, n, agreement = mean pairwise 1 − WER, exact).
    """
    if frame.empty:
        raise ValueError("no answers: the annotations frame is empty")
    compiled = compile_rules(rules)
    normalized = frame.assign(text=[normalize(str(v), compiled) for v in frame["value"]])
    rows, within, weights = [], [], []
    word_sims, char_sims = [], []
    for item, group in normalized.groupby("item", sort=True):
        texts = group["text"].tolist()
        if len(texts) < 2:
            rows.append((item, len(texts), np.nan, False))
            continue
        pairs = list(combinations(texts, 2))
        w = [_similarity(a, b, jiwer.wer) for a, b in pairs]
        c = [_similarity(a, b, jiwer.cer) for a, b in pairs]
        word_sims += w
        char_sims += c
        distances = [_distance(a, b) for a, b in pairs]
        within.append(float(np.mean(distances)))
        weights.append(len(texts))
        rows.append((item, len(texts), float(np.mean(w)), len(set(texts)) == 1))
    per_item = pd.DataFrame(rows, columns=["item", "n", "agreement", "exact"])
    measured = per_item[per_item["n"] >= 2]
    if measured.empty:
        raise ValueError("no item has two transcripts: agreement is undefined")
    observed = float(np.average(within, weights=weights))
    expected = _expected_distance(normalized, seed)
    alpha = 1.0 - observed / expected if expected > 0 else (1.0 if observed == 0 else float("nan"))
    return {
        "exact_match": float(measured["exact"].mean()),
        "word_similarity": float(np.mean(word_sims)),
        "char_similarity": float(np.mean(char_sims)),
        "alpha": float(alpha),
        "items_measured": len(measured),
        "per_item": per_item,
    }


def _expected_distance(normalized: pd.DataFrame, seed: int) -> float:
    pairable = normalized.groupby("item").filter(lambda g: len(g) >= 2)
    texts = pairable["text"].to_numpy()
    n = len(texts)
    rng = np.random.default_rng(seed)
    if n * (n - 1) // 2 <= EXPECTED_PAIRS:
        pairs = list(combinations(range(n), 2))
    else:
        pairs = list(zip(rng.integers(0, n, EXPECTED_PAIRS), rng.integers(0, n, EXPECTED_PAIRS), strict=True))
    # Expected disagreement in alpha counts every pair of pairable values (same item or not).
    distances = [_distance(texts[i], texts[j]) for i, j in pairs if i != j]
    return float(np.mean(distances)) if distances else 0.0


def medoid(texts: Sequence[str], rules: Sequence = ()) -> tuple[str | None, float]:
    """The transcript with the least total WER to the others (after normalization), and its
    mean 1 − WER to them as confidence. Ties go to the earliest; None for no texts."""
    if not texts:
        return None, float("nan")
    if len(texts) == 1:
        return texts[0], float("nan")
    compiled = compile_rules(rules) if rules and isinstance(rules[0], dict) else list(rules)
    norm = [normalize(t, compiled) for t in texts]
    totals = []
    for i, a in enumerate(norm):
        totals.append(sum(1.0 - _similarity(a, b, jiwer.wer) for j, b in enumerate(norm) if j != i))
    best = int(np.argmin(totals))
    return texts[best], 1.0 - totals[best] / (len(texts) - 1)
