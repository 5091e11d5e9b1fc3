"""Serialize export rows: JSONL, CSV (formula-safe), Parquet (row groups), COCO, Label Studio JSON.

Every writer takes an iterator of rows and yields bytes, so the response streams in
constant memory.
"""

import csv
import io
import json
import tempfile
from collections.abc import Iterable, Iterator

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
CSV_COLUMNS = [
    "item_id",
    "external_id",
    "label",
    "label_source",
    "consensus",
    "method",
    "confidence",
    "agreement",
    "n_answers",
    "is_gold",
    "is_tie",
    "resolved_by",
    "resolved_at",
    "status",
    "schema_version",
    "media",
    "data",
    "metadata",
    "answers",
    "split",
]
CONTENT_TYPES = {
    "jsonl": "application/x-ndjson",
    "csv": "text/csv; charset=utf-8",
    "parquet": "application/vnd.apache.parquet",
    "coco": "application/json",
    "label_studio": "application/json",
}
EXTENSIONS = {
    "jsonl": "jsonl",
    "csv": "csv",
    "parquet": "parquet",
    "coco": "coco.json",
    "label_studio": "ls.json",
}
PARQUET_ROW_GROUP = 50_000
BUFFER_ROWS = 2_000


def _dumps(value) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True)


def jsonl(rows: Iterable[dict]) -> Iterator[bytes]:
    lines = []
    for row in rows:
        lines.append(_dumps(row))
        if len(lines) >= BUFFER_ROWS:
            yield ("\n".join(lines) + "\n").encode()
            lines = []
    if lines:
        yield ("\n".join(lines) + "\n").encode()


def csv_safe(text: str) -> str:
    """Cells a spreadsheet would run as a formula get a leading apostrophe (OWASP advice)."""
    return "'" + text if text.startswith(FORMULA_START) else text


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return csv_safe(value)
    if isinstance(value, int | float):
        return repr(value)
    return csv_safe(_dumps(value))


def csv_rows(rows: Iterable[dict], extra: tuple[str, ...] = ()) -> Iterator[bytes]:
    """``extra``: optional columns (e.g. label_quality), written before ``split``."""
    columns = CSV_COLUMNS[:-1] + list(extra) + CSV_COLUMNS[-1:]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    for count, row in enumerate(rows, start=1):
        writer.writerow([_cell(row.get(column)) for column in columns])
        if count % BUFFER_ROWS == 0:
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode()


def _parquet_table(batch: list[dict], extra: tuple[str, ...] = ()):
    import pyarrow as pa

    columns = {
        "item_id": pa.array([r["item_id"] for r in batch], pa.int64()),
        "external_id": pa.array([r["external_id"] for r in batch], pa.string()),
        "split": pa.array([r.get("split") for r in batch], pa.string()),
        "label": pa.array([None if r["label"] is None else _dumps(r["label"]) for r in batch], pa.string()),
        "label_source": pa.array([r["label_source"] for r in batch], pa.string()),
        "resolved_by": pa.array([r["resolved_by"] for r in batch], pa.string()),
        "resolved_at": pa.array([r["resolved_at"] for r in batch], pa.string()),
        "status": pa.array([r["status"] for r in batch], pa.string()),
        "consensus": pa.array(
            [None if r["consensus"] is None else _dumps(r["consensus"]) for r in batch], pa.string()
        ),
        "method": pa.array([r["method"] for r in batch], pa.string()),
        "confidence": pa.array([r["confidence"] for r in batch], pa.float64()),
        "agreement": pa.array([r["agreement"] for r in batch], pa.float64()),
        "n_answers": pa.array([r["n_answers"] for r in batch], pa.int32()),
        "is_gold": pa.array([r["is_gold"] for r in batch], pa.bool_()),
        "is_tie": pa.array([r["is_tie"] for r in batch], pa.bool_()),
        "schema_version": pa.array([r["schema_version"] for r in batch], pa.int32()),
        "media": pa.array([r.get("media") for r in batch], pa.string()),
        "data": pa.array([_dumps(r["data"]) for r in batch], pa.string()),
        "metadata": pa.array([_dumps(r["metadata"]) for r in batch], pa.string()),
        "answers": pa.array([_dumps(r["answers"]) if "answers" in r else None for r in batch], pa.string()),
    }
    for name in extra:  # optional float columns (label_quality)
        columns[name] = pa.array([r.get(name) for r in batch], pa.float64())
    return pa.table(columns)


def parquet(rows: Iterable[dict], extra: tuple[str, ...] = ()) -> Iterator[bytes]:
    """Row groups of PARQUET_ROW_GROUP rows, spooled to a temporary file (Parquet's footer
    comes last, so the file is complete only at the end); memory holds one row group.

    JSON-shaped fields (label, consensus, data, metadata, answers) are JSON text columns, so the
    exact text survives (no formula escaping: that is only for CSV).
    """
    import pyarrow.parquet as pq

    with tempfile.TemporaryFile() as spool:
        writer = None
        batch: list[dict] = []
        for row in rows:
            batch.append(row)
            if len(batch) >= PARQUET_ROW_GROUP:
                table = _parquet_table(batch, extra)
                writer = writer or pq.ParquetWriter(spool, table.schema)
                writer.write_table(table)
                batch = []
        table = _parquet_table(batch, extra)
        writer = writer or pq.ParquetWriter(spool, table.schema)
        writer.write_table(table)
        writer.close()
        spool.seek(0)
        while chunk := spool.read(1 << 20):
            yield chunk


def _json_array(items: Iterable) -> Iterator[bytes]:
    yield b"["
    first = True
    for item in items:
        yield (("" if first else ",") + _dumps(item)).encode()
        first = False
    yield b"]"


def label_studio(rows: Iterable[dict], *, from_name: str = "label", to_name: str = "item") -> Iterator[bytes]:
    """Label Studio's JSON export shape: tasks with one annotation per labeler (``include=answers``)
    and the current label as the prediction (its source in ``model_version``)."""

    def result(value) -> list[dict]:
        if value is None:
            return []
        if isinstance(value, str):
            kind, body = ("choices", {"choices": [value]})
        elif isinstance(value, list) and value and isinstance(value[0], dict):
            return [
                {
                    "type": "rectanglelabels",
                    "from_name": from_name,
                    "to_name": to_name,
                    "value": {
                        "x": b["x"],
                        "y": b["y"],
                        "width": b["w"],
                        "height": b["h"],
                        "rectanglelabels": [b["class"]],
                    },
                }
                for b in value
            ]
        else:
            kind, body = ("choices", {"choices": list(value)})
        return [{"type": kind, "from_name": from_name, "to_name": to_name, "value": body}]

    def tasks():
        for row in rows:
            yield {
                "id": row["item_id"],
                "data": {**(row["data"] or {}), **({"media": row["media"]} if row.get("media") else {})},
                "meta": {
                    "external_id": row["external_id"],
                    "split": row.get("split"),
                    "label_source": row["label_source"],
                    "status": row["status"],
                    **(row["metadata"] or {}),
                },
                "annotations": [
                    {"completed_by": a["labeler"], "result": result(a["value"])}
                    for a in row.get("answers", [])
                ],
                "predictions": [
                    {
                        "model_version": f"concord-{_source_name(row)}",
                        "score": row["confidence"] if row["label_source"] == "consensus" else 1.0,
                        "result": result(row["label"]),
                    }
                ],
            }

    yield from _json_array(tasks())


def _source_name(row: dict) -> str:
    return row["method"] if row["label_source"] in (None, "consensus") else str(row["label_source"])


def coco(rows: Iterable[dict], *, classes: list[str]) -> Iterator[bytes]:
    """COCO detection JSON from the current labels' boxes (pixel x, y, w, h of the original image).

    Boxes are in pixels of the original image; each image entry carries width and height
    from the import's quality metrics when known.
    """
    category_ids = {name: i + 1 for i, name in enumerate(classes)}
    yield b'{"info":{"description":"Concord consensus export"},"categories":'
    yield _dumps([{"id": i, "name": n} for n, i in category_ids.items()]).encode()
    annotations: list[dict] = []
    yield b',"images":['
    first = True
    for row in rows:
        quality = (row.get("quality") or {}) if isinstance(row.get("quality"), dict) else {}
        image = {
            "id": row["item_id"],
            "file_name": row.get("media") or row["external_id"],
            "width": quality.get("width"),
            "height": quality.get("height"),
            "split": row.get("split"),
        }
        yield (("" if first else ",") + _dumps(image)).encode()
        first = False
        for box in row["label"] or []:
            annotations.append(
                {
                    "id": len(annotations) + 1,
                    "image_id": row["item_id"],
                    "category_id": category_ids.get(box["class"]),
                    "bbox": [box["x"], box["y"], box["w"], box["h"]],
                    "area": box["w"] * box["h"],
                    "iscrowd": 0,
                }
            )
    yield b'],"annotations":'
    yield _dumps(annotations).encode()
    yield b"}"


def write(
    fmt: str, rows: Iterable[dict], *, classes: list[str], extra: tuple[str, ...] = ()
) -> Iterator[bytes]:
    if fmt == "jsonl":
        return jsonl(rows)
    if fmt == "csv":
        return csv_rows(rows, extra)
    if fmt == "parquet":
        return parquet(rows, extra)
    if fmt == "coco":
        return coco(rows, classes=classes)
    return label_studio(rows)
