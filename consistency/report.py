"""The run report, typed: what an agreement run stores in ``AgreementRun.report`` and what the
pages, the gap-to-HLP table, the review queue and the API read of it.

The measuring pipelines (``consistency.services.measure``) build the report as JSON; the run
writer adds usernames, the model version and the pre-label section (:class:`RunReportBuilder`)
and stores it. Readers turn the stored JSON into a :class:`RunReport` with
:func:`report_from_json`, never through ``(run.report or {}).get(...)`` chains.

Shape. The top level and its fixed sections are typed below. Rows and sections that the
templates walk (labeler rows, per-class rows, the HLP section…) stay the JSON objects they are,
typed as ``TypedDict``: their keys vary with the project's kind (a box project's labeler rows
have no ``agreement_with_others``) and by age (older runs lack newer keys), the templates read
them by key (``row.class``), and a run page lists hundreds of them, so copying them into
objects would cost on every page view and change nothing they show. Every key is optional
(``total=False``) unless every report ever stored has it.

Defaults. A report of an older run that lacks a newer section reads as that section's empty
value: what the pages showed for it before the report was typed (``{}``, ``[]`` or ``None``).
``RunReport.to_json()`` is the stored JSON itself, byte for byte: the API returns it as stored.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, NotRequired, Required, TypedDict, cast

ReportKind = Literal["categorical", "boxes", "multi_classes", "transcription"]
"""What was measured: classes and ratings are ``categorical``."""

AlphaLevel = Literal["nominal", "ordinal", "interval", "ratio"]
"""Krippendorff's levels of measurement a categorical run is asked for (``RunParams.level``)."""

Level = AlphaLevel | Literal["1 − IoU", "binary per class, support-weighted", "edit distance"]
"""``overall.level``: the categorical level, or what the alpha of another kind compares."""

ConsensusMethod = Literal["majority", "dawid_skene"]
"""The consensus methods a categorical run is asked for (``RunParams.consensus``)."""

ReportConsensusMethod = ConsensusMethod | Literal["fused boxes", "majority per class", "medoid"]
"""``consensus.method``: the categorical method, or how another kind forms its consensus."""

QualityMethod = Literal["crowdlab"]


class Counts(TypedDict, total=False):
    answers: int
    skipped_answers: int
    needs_relabel: int
    labelers: int
    items_with_answers: int
    items_measured: int
    items_excluded: int


class Overall(TypedDict, total=False):
    """The headline. A report with too little data has only ``alpha`` (None) and ``meaning``."""

    level: Level
    alpha: float | None
    alpha_ci: list[float | None] | None  # [low, high]; None for kinds without a bootstrap
    alpha_nominal: float | None
    percent_agreement: float | None
    fleiss_kappa: float | None
    gwet_ac1: float | None
    meaning: str
    extra: dict[str, float | None]  # kind-specific figures (boxes, transcripts) by their name


# "class" is a keyword: these rows use the functional syntax.
PerClassRow = TypedDict(
    "PerClassRow",
    {
        "class": str,
        "alpha": float | None,
        "support": int,
        "most_confused_with": str | None,
        "confusions": int,
    },
)


class Confusion(TypedDict):
    classes: list[str]
    counts: list[list[int]]  # classes × classes: how often two answers on an item gave the pair


class Pairs(TypedDict):
    labeler_ids: list[int]
    kappa: list[list[float | None]]  # labelers × labelers Cohen's kappa
    support: list[list[int]]  # items shared with another labeler (0 on the diagonal)
    labelers: NotRequired[list[str]]  # usernames in ``labeler_ids`` order (added by the writer)


class LabelerRow(TypedDict, total=False):
    """One labeler. HLP keys (``loo_*``, ``gold_*``, ``flagged``) are there when HLP was
    measured; ``confuses``/``answers_instead``/``confusions`` when any answer disagreed."""

    labeler_id: Required[int]
    username: str
    answers: int
    skips: int
    paired_items: int
    agreement_with_others: float | None
    quality: float | None
    loo_n: int | None
    loo_rate: float | None
    loo_low: float | None
    loo_high: float | None
    gold_n: int | None
    gold_rate: float | None
    gold_low: float | None
    gold_high: float | None
    flagged: bool
    confuses: Any  # a class name (categorical) as answered
    answers_instead: Any
    confusions: int | None


class SliceRow(TypedDict):
    value: str
    items: int
    items_measured: NotRequired[int]
    alpha: float | None
    percent_agreement: float | None


class VersionRow(TypedDict):
    schema_version: int
    answers: int
    alpha: float | None


class ConsensusSummary(TypedDict, total=False):
    method: Required[ReportConsensusMethod]
    majority_ties: int
    dawid_skene_iterations: int
    methods_agree: float | None
    class_priors: dict[str, float]


class HlpProject(TypedDict, total=False):
    hlp: float | None
    low: float | None
    high: float | None
    n: int
    excluded_answers: int
    two_random_agree: float | None
    gold_accuracy: float | None


HlpClassRow = TypedDict(
    "HlpClassRow",
    {"class": Any, "n": int, "rate": float | None, "low": float | None, "high": float | None},
)


class HlpSliceRow(TypedDict):
    value: Any  # the slice's value as stored in the item's metadata (transcripts: as text)
    n: int
    rate: float | None
    low: float | None
    high: float | None


class Hlp(TypedDict, total=False):
    """Human-level performance. ``measure`` names the score of box and transcript projects
    ("word accuracy (1 − WER)"); categorical HLP is leave-one-out agreement and has none."""

    measure: str
    project: HlpProject
    per_class: list[HlpClassRow]
    per_slice: dict[str, list[HlpSliceRow]]


class LabelQuality(TypedDict, total=False):
    method: QualityMethod
    with_model: bool
    model_weight: float | None
    scored_items: int
    likely_wrong: int
    model_version: str | None  # added by the writer


class PrelabelArm(TypedDict, total=False):
    n: int
    n_others: int
    with_model: float | None
    with_others: float | None


class Prelabels(TypedDict):
    shown: PrelabelArm
    held_out: PrelabelArm
    difference: dict[str, list[float | None]]  # with_model / with_others: [estimate, low, high]
    accepted_unchanged: int
    model_versions: list[str]


class Timing(TypedDict, total=False):
    seconds: float


class TranscriptRule(TypedDict, total=False):
    pattern: str
    replacement: str
    regex: bool
    case_sensitive: bool


class ReportJSON(TypedDict, total=False):
    """The stored report, as JSON. ``not_enough_data`` says why a run measured nothing."""

    kind: ReportKind
    counts: Counts
    overall: Overall
    per_class: list[PerClassRow]
    confusion: Confusion
    pairs: Pairs
    labelers: list[LabelerRow]
    slices: dict[str, list[SliceRow]]
    versions: list[VersionRow]
    consensus: ConsensusSummary
    hlp: Hlp | None
    label_quality: LabelQuality
    prelabels: Prelabels
    rules: list[TranscriptRule]
    timing: Timing
    not_enough_data: str


@dataclass(frozen=True)
class RunReport:
    """A stored report, read. An absent report (a run that has not finished) reads as empty."""

    kind: ReportKind
    counts: Counts
    overall: Overall
    per_class: list[PerClassRow]
    confusion: Confusion | None
    pairs: Pairs | None
    labelers: list[LabelerRow]
    slices: dict[str, list[SliceRow]]
    versions: list[VersionRow]
    consensus: ConsensusSummary | None
    hlp: Hlp
    label_quality: LabelQuality | None
    prelabels: Prelabels | None
    not_enough_data: str | None
    json: ReportJSON = field(repr=False, compare=False)

    @property
    def alpha(self) -> float | None:
        """The headline alpha (``AgreementRun.headline_alpha`` keeps it in a column)."""
        return self.overall.get("alpha")

    @property
    def alpha_ci(self) -> tuple[float | None, float | None]:
        """The headline's 95% bootstrap interval; (None, None) without one."""
        low, high = self.overall.get("alpha_ci") or [None, None]
        return low, high

    @property
    def answer_count(self) -> int:
        return self.counts.get("answers", 0)

    @property
    def hlp_project(self) -> HlpProject:
        return self.hlp.get("project", {})

    def hlp_per_slice(self, field: str) -> list[HlpSliceRow]:
        return self.hlp.get("per_slice", {}).get(field, [])

    def labeler_hlp(self) -> dict[int, float | None]:
        """labeler id → leave-one-out HLP (None when not measured)."""
        return {row["labeler_id"]: row.get("loo_rate") for row in self.labelers}

    def to_json(self) -> ReportJSON:
        """The report as stored (not a copy: do not change it)."""
        return self.json


def report_from_json(data: Mapping[str, Any] | None) -> RunReport:
    """The typed report of ``AgreementRun.report`` (None or ``{}``: an empty report).

    Reads what is stored without copying it: a section an older run lacks is its empty value."""
    report = cast(ReportJSON, data or {})
    return RunReport(
        kind=report.get("kind", "categorical"),
        counts=report.get("counts") or {},
        overall=report.get("overall") or {},
        per_class=report.get("per_class") or [],
        confusion=report.get("confusion") or None,
        pairs=report.get("pairs") or None,
        labelers=report.get("labelers") or [],
        slices=report.get("slices") or {},
        versions=report.get("versions") or [],
        consensus=report.get("consensus") or None,
        hlp=report.get("hlp") or {},
        label_quality=report.get("label_quality") or None,
        prelabels=report.get("prelabels") or None,
        not_enough_data=report.get("not_enough_data") or None,
        json=report,
    )


class RunReportBuilder:
    """The run writer's last steps on a measured report: the model version behind the
    likely-wrong ranking, the pre-label section, usernames beside labeler ids. ``to_json()``
    is the JSON the run stores (the measured dict, completed in place)."""

    def __init__(self, measured: Mapping[str, Any]) -> None:
        self._report = cast(ReportJSON, measured)

    def model_version_set(self, model_version: str | None) -> None:
        """Name the model whose probabilities joined the likely-wrong ranking (if it ran)."""
        if "label_quality" in self._report:
            self._report["label_quality"]["model_version"] = model_version

    def prelabels_set(self, section: Mapping[str, Any] | None) -> None:
        """The pre-label section (``measure_prelabels``), when answers were given with them."""
        if section is not None:
            self._report["prelabels"] = cast(Prelabels, section)

    def labeler_ids(self) -> set[int]:
        """Every labeler the report names: its rows and its pair matrix."""
        ids = {row["labeler_id"] for row in self._report.get("labelers", [])}
        pairs = self._report.get("pairs")
        return ids | set(pairs["labeler_ids"] if pairs else [])

    def usernames_set(self, names: Mapping[int, str]) -> None:
        """Usernames beside labeler ids (an id without a user is named by its number)."""
        for row in self._report.get("labelers", []):
            row["username"] = names.get(row["labeler_id"], str(row["labeler_id"]))
        pairs = self._report.get("pairs")
        if pairs:
            pairs["labelers"] = [names.get(i, str(i)) for i in pairs["labeler_ids"]]

    def build(self) -> RunReport:
        return report_from_json(self._report)

    def to_json(self) -> ReportJSON:
        return self._report
