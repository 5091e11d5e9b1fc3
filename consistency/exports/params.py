"""Export parameters from a query string, validated with messages that say what is wrong."""

from dataclasses import dataclass, field

from consistency.exports.splits import SplitSpec, parse_split_spec

FORMATS = ("jsonl", "csv", "parquet", "coco", "label_studio")
EXCLUDES = ("unresolved", "ties", "borderline")
BORDERLINE_NAMES = frozenset({"borderline", "[unintelligible]", "unsure", "uncertain"})


class ExportParamError(ValueError):
    def __init__(self, field_name: str, message: str):
        super().__init__(message)
        self.field_name = field_name


@dataclass(frozen=True)
class ExportParams:
    format: str = "jsonl"
    consensus: str | None = None
    split: SplitSpec | None = None
    split_spec: str = ""
    seed: int = 0
    stratify_by: str = ""
    min_agreement: float | None = None
    min_confidence: float | None = None
    min_answers: int | None = None
    schema_version: int | None = None
    run: int | None = None
    slices: tuple[tuple[str, str], ...] = ()
    exclude: frozenset[str] = field(default_factory=frozenset)
    include_answers: bool = False
    include_quality: bool = False
    include_lacks_information: bool = False
    min_quality: float | None = None

    @property
    def extra_columns(self) -> tuple[str, ...]:
        return ("label_quality",) if self.include_quality else ()

    def as_dict(self) -> dict:
        return {
            "format": self.format,
            "consensus": self.consensus,
            "split": self.split_spec,
            "seed": self.seed,
            "stratify_by": self.stratify_by,
            "min_agreement": self.min_agreement,
            "min_confidence": self.min_confidence,
            "min_answers": self.min_answers,
            "schema_version": self.schema_version,
            "run": self.run,
            "slices": [list(s) for s in self.slices],
            "exclude": sorted(self.exclude),
            "include_answers": self.include_answers,
            "include_quality": self.include_quality,
            "include_lacks_information": self.include_lacks_information,
            "min_quality": self.min_quality,
        }


def _number(raw: str, name: str, cast, low=None, high=None):
    try:
        value = cast(raw)
    except (TypeError, ValueError) as exc:
        raise ExportParamError(name, f"{name} must be a number, got {raw!r}.") from exc
    if (low is not None and value < low) or (high is not None and value > high):
        raise ExportParamError(name, f"{name} must be between {low} and {high}.")
    return value


KNOWN = {
    "format",
    "consensus",
    "split",
    "seed",
    "stratify_by",
    "min_agreement",
    "min_confidence",
    "min_answers",
    "min_quality",
    "schema_version",
    "run",
    "slice",
    "exclude",
    "include",
    "limit",
    "offset",
}


def parse_export_params(query, *, allowed_formats=FORMATS) -> ExportParams:
    """``query``: a QueryDict-like mapping (``get``, ``getlist``, iteration over keys)."""
    unknown = sorted(set(query.keys()) - KNOWN)
    if unknown:
        raise ExportParamError(unknown[0], f"Unknown parameter {unknown[0]!r}.")
    fmt = query.get("format", "jsonl")
    if fmt not in allowed_formats:
        raise ExportParamError("format", f"Unknown format {fmt!r}; use one of {', '.join(allowed_formats)}.")
    consensus = query.get("consensus") or None
    if consensus not in (None, "majority", "dawid_skene"):
        raise ExportParamError("consensus", "consensus must be majority or dawid_skene.")
    split_spec = query.get("split", "")
    try:
        split = parse_split_spec(split_spec) if split_spec else None
    except ValueError as exc:
        raise ExportParamError("split", str(exc)) from exc
    slices = []
    for raw in query.getlist("slice"):
        name, sep, value = raw.partition(":")
        if not sep or not name:
            raise ExportParamError("slice", f"slice must be field:value, got {raw!r}.")
        slices.append((name, value))
    exclude = set()
    for raw in query.getlist("exclude"):
        for part in filter(None, raw.split(",")):
            if part not in EXCLUDES:
                raise ExportParamError("exclude", f"Unknown exclude {part!r}; use {', '.join(EXCLUDES)}.")
            exclude.add(part)
    include = {p for raw in query.getlist("include") for p in raw.split(",") if p}
    if include - {"answers", "quality", "lacks_information"}:
        raise ExportParamError("include", "include accepts 'answers', 'quality' and 'lacks_information'.")
    get = query.get
    return ExportParams(
        format=fmt,
        consensus=consensus,
        split=split,
        split_spec=split_spec,
        seed=_number(get("seed", "0"), "seed", int, 0, 2**31),
        stratify_by=get("stratify_by", ""),
        min_agreement=_number(get("min_agreement"), "min_agreement", float, -1, 1)
        if get("min_agreement")
        else None,
        min_confidence=_number(get("min_confidence"), "min_confidence", float, 0, 1)
        if get("min_confidence")
        else None,
        min_answers=_number(get("min_answers"), "min_answers", int, 0, 1000) if get("min_answers") else None,
        schema_version=_number(get("schema_version"), "schema_version", int, 1)
        if get("schema_version")
        else None,
        run=_number(get("run"), "run", int, 1) if get("run") else None,
        slices=tuple(slices),
        exclude=frozenset(exclude),
        include_answers="answers" in include,
        include_quality="quality" in include,
        include_lacks_information="lacks_information" in include,
        min_quality=_number(get("min_quality"), "min_quality", float, 0, 1) if get("min_quality") else None,
    )
