"""Record parsers without a database: the Arrow CSV path and the pure-Python reader agree on
rows, ids, errors and line numbers; figures per column; format sniffing."""

import io
import json

import pytest

from labeling.imports.record_stats import RecordStats
from labeling.imports.records import (
    ParseReport,
    UnparseableFile,
    content_id,
    parse_csv,
    parse_jsonl,
    record_kind,
    split_pair,
)
from labeling.imports.tabular import csv_batches, csv_layout, read_header

TRICKY = (
    "\ufeffexternal_id,left.name,right.name,note,region\n"
    'r1,"Smith, Ann","Ann\nSmith",=SUM(A1:A9),EU\n'
    'r2,"He said ""hi""",Bob,@cmd,\n'
    "r3,Zoë,,+1,NA\n"
    "r1,dup,dup,dup,EU\n"
    "r4,,,-2,EU\n"
)


def _python(content: bytes, metadata=frozenset()):
    report = ParseReport()
    rows = [(r.external_id, r.data, r.metadata) for r in parse_csv(io.BytesIO(content), metadata, report)]
    return rows, report


def _arrow(content: bytes, metadata=frozenset()):
    """The Arrow path, with the rows rebuilt the way PostgreSQL builds them."""
    report, stats = ParseReport(), RecordStats()
    stream = io.BytesIO(content)
    layout = csv_layout(read_header(stream), metadata)
    rows = []
    for table in csv_batches(stream, layout, report, stats):
        for raw in table.to_pylist():
            data = split_pair({c: raw[c] for c in layout.data_columns})
            meta = {c: raw[c] for c in layout.metadata_columns if raw[c] != ""}
            rows.append((raw["external_id"], data, meta))
    return rows, report, stats


def test_both_csv_readers_give_the_same_rows_with_cells_verbatim():
    content = TRICKY.encode()
    python_rows, python_report = _python(content, frozenset({"region"}))
    arrow_rows, arrow_report, _ = _arrow(content, frozenset({"region"}))
    assert python_rows == arrow_rows
    assert python_rows[0] == (
        "r1",
        {"left": {"name": "Smith, Ann"}, "right": {"name": "Ann\nSmith"}, "note": "=SUM(A1:A9)"},
        {"region": "EU"},
    )
    assert python_rows[1][1]["left"]["name"] == 'He said "hi"' and python_rows[1][2] == {}
    assert python_report.duplicates_in_file == arrow_report.duplicates_in_file == ["r1"]
    assert python_report.errors == arrow_report.errors == []


def test_both_csv_readers_report_the_same_bad_rows_on_the_same_lines():
    content = (
        "external_id,name,age\n"
        "a,Ann,31\n"
        "b,Bob,40,extra\n"  # line 3: one cell too many
        ",Cy,22\n"  # line 4: no id
        "d,Di\n"  # line 5: one cell short
        "e,E\x00ve,20\n"  # line 6: NUL
        f"{'x' * 300},Long,1\n"  # line 7: id too long
        "f,Fay,50\n"
    ).encode()
    _, python_report = _python(content)
    _, arrow_report, _ = _arrow(content)
    expected = [
        {"line": 3, "reason": "more cells than header columns"},
        {"line": 4, "reason": "missing external_id"},
        {"line": 5, "reason": "fewer cells than header columns"},
        {"line": 6, "reason": "a field contains a NUL character"},
        {"line": 7, "reason": "external_id longer than 255 characters"},
    ]
    assert sorted(python_report.errors, key=lambda e: e["line"]) == expected
    assert sorted(arrow_report.errors, key=lambda e: e["line"]) == expected


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b'external_id,name\na,"never closed\nb,x\n', "never closed"),
        (b"external_id,name\na,\xff\xfe broken\n", "UTF-8"),
        (b"external_id,name,name\na,b,c\n", "unique, non-empty column names"),
        (b"", "header row"),
        (b"external_id,region\na,EU\n", "no columns to label"),
        (b"left.name,left\nx,y\n", "'left' or 'right' column"),
    ],
)
def test_unreadable_csv_files_are_refused_by_both_readers(content, message):
    with pytest.raises(UnparseableFile, match=message):
        _python(content, frozenset({"region"}))
    with pytest.raises(UnparseableFile, match=message):
        _arrow(content, frozenset({"region"}))


def test_rows_without_ids_are_keyed_by_content_the_same_way_in_every_format():
    csv_rows, csv_report = _python(b"name,city\nAnn,Oslo\nBob,Rome\nAnn,Oslo\n")
    arrow_rows, _, _ = _arrow(b"name,city\nAnn,Oslo\nBob,Rome\nAnn,Oslo\n")
    jsonl = b'{"name": "Ann", "city": "Oslo"}\n{"data": {"name": "Bob", "city": "Rome"}}\n'
    jsonl_rows = [r.external_id for r in parse_jsonl(io.BytesIO(jsonl), frozenset(), ParseReport())]
    expected = [
        content_id({"name": "Ann", "city": "Oslo"}, {}),
        content_id({"name": "Bob", "city": "Rome"}, {}),
    ]
    assert [r[0] for r in csv_rows] == [r[0] for r in arrow_rows] == jsonl_rows == expected
    assert csv_report.duplicates_in_file == [expected[0]] and csv_report.content_ids == 3


def test_jsonl_reports_bad_lines_and_refuses_nan():
    report = ParseReport()
    content = b'{"id": 1, "x": 1}\n{broken\n\n{"id": 2, "x": NaN}\n["not", "an", "object"]\n{"id": 3}\n'
    rows = list(parse_jsonl(io.BytesIO(content), frozenset(), report))
    assert [r.external_id for r in rows] == ["1"]
    assert [e["line"] for e in report.errors] == [2, 4, 5, 6]
    assert report.errors[3]["reason"] == "no fields to label"


def test_record_stats_per_column():
    stats = RecordStats()
    for data in (
        {"left": {"age": "31", "name": "Ann"}, "right": {"age": 40, "name": ""}},
        {"left": {"age": "7.5", "name": "Ann"}, "right": {"age": "n/a", "name": "Bo"}},
        {"left": {"age": None, "name": "Cy"}, "right": {"age": 12, "name": "Cy"}},
    ):
        stats.add(data)
    columns = stats.summary()["columns"]
    assert columns["left.age"] == {"missing": 1, "distinct": 2, "min": 7.5, "max": 31.0}
    assert "min" not in columns["right.age"]  # "n/a": not a numeric column
    assert columns["right.name"]["missing"] == 1 and columns["left.name"]["distinct"] == 2


def test_arrow_stats_match_the_row_by_row_figures():
    content = b"id,age,name\n1,31,Ann\n2,,Bob\n3,7.5,Ann\n4,x,\n"
    _, _, arrow_stats = _arrow(content)
    python_stats = RecordStats()
    for line in content.decode().splitlines()[1:]:
        _, age, name = line.split(",")
        python_stats.add({"age": age, "name": name})
    assert arrow_stats.summary() == python_stats.summary()


def test_record_kind_comes_from_the_bytes_first():
    assert record_kind("data.csv", b"PAR1\x15\x04") == "parquet"
    assert record_kind("rows.jsonl", b'{"a": 1}') == "jsonl"
    assert record_kind("rows.json", b' [{"a": 1}]') == "json"
    assert record_kind("rows.txt", b"[1]") == "json"
    assert record_kind("table.csv", b"a,b\n1,2") == "csv"
    assert record_kind("fake.parquet", b"a,b\n") is None
    assert record_kind("photo.png", b"\x89PNG") is None


def test_split_pair_and_json_values_are_kept():
    assert split_pair({"left.a": 1, "right.a": 2, "same": 0}) == {
        "left": {"a": 1},
        "right": {"a": 2},
        "same": 0,
    }
    report = ParseReport()
    row = next(
        parse_jsonl(
            io.BytesIO(json.dumps({"id": "p", "left": {"a": [1]}, "right": {"a": [2]}}).encode()),
            frozenset(),
            report,
        )
    )
    assert row.data == {"left": {"a": [1]}, "right": {"a": [2]}}
