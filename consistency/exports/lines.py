"""SQL expressions that write each export row as a whole line of JSONL or CSV, for the fast path
(``exports.fast``). Each expression reads the columns of ``sql.rows_sql`` under the alias ``s``
and ends where the split goes: the caller adds the split (a constant, or Python adds it).

The bytes are those of the earlier writers, which tests hold equal to the reference path: JSON
by concatenation with keys in sorted order (``to_json`` quotes text; jsonb and numbers print as
JSON already), CSV quoted exactly as ``COPY … (FORMAT csv)`` quotes (tests compare the two).
What is cheaper than before is how: ``to_json`` looks its argument's type up on every call, so
values from a handful of constants (label source, status, method, booleans) are written as
JSON literals chosen by ``CASE``, and text is quoted without ``to_json`` unless it holds a
character JSON escapes.
"""

# Characters JSON (and to_json) escapes in a string: the quote, the backslash, control characters.
_JSON_ESCAPED = "'[\"\\\\\\x01-\\x1f]'"


def json_text(column: str) -> str:
    """``to_json(column)::text`` for text (NULL → 'null'), about a third of its cost: most values
    need no escape, and those that do go through ``to_json`` itself."""
    return (
        f"CASE WHEN {column} IS NULL THEN 'null' WHEN {column} ~ {_JSON_ESCAPED} "
        f"THEN to_json({column})::text ELSE '\"' || {column} || '\"' END"
    )


def jsonl_line(*, version_tail: str, label: str) -> str:
    """Everything of a JSONL row up to the split's value (``…,"split":``), then the caller's split,
    then ``status_tail()``. ``version_tail`` is the bound parameter of ``,"schema_version":N,"split":``;
    ``label`` the SQL of the label's JSON text."""
    return f"""
        '{{"agreement":' || coalesce(s.agreement::text, 'null')
        || ',"confidence":' || coalesce(s.confidence::text, 'null')
        || ',"consensus":' || coalesce(s.consensus::text, 'null')
        || ',"data":' || s.data::text
        || ',"external_id":' || {json_text("s.external_id")}
        || CASE WHEN s.is_gold THEN ',"is_gold":true' ELSE ',"is_gold":false' END
        || CASE WHEN s.is_tie THEN ',"is_tie":true,"item_id":' ELSE ',"is_tie":false,"item_id":' END
        || s.item_id
        || ',"label":' || {label}
        || CASE s.label_source WHEN 'consensus' THEN ',"label_source":"consensus"'
                WHEN 'resolved' THEN ',"label_source":"resolved"' WHEN 'gold' THEN ',"label_source":"gold"'
                ELSE ',"label_source":null' END
        || ',"media":' || {json_text("s.media")}
        || ',"metadata":' || s.metadata::text
        || ',"method":' || CASE WHEN s.method = %(m)s THEN %(m_json)s ELSE to_json(s.method)::text END
        || ',"n_answers":' || s.n_answers
        || ',"resolved_at":' || {json_text("s.resolved_text")}
        || ',"resolved_by":' || {json_text("s.resolved_by")}
        || {version_tail}"""


def status_tail() -> str:
    """The end of a JSONL row after the split: the review status ("open" unless reviewed)."""
    return """',"status":' || CASE WHEN s.status = 'open' THEN '"open"}'
        ELSE to_json(s.status)::text || '}' END"""


def _csv_cell(text: str, *, formula_safe: bool = False) -> str:
    """A text cell as COPY writes it in CSV: NULL as nothing, the empty string as "" (COPY's NULL
    is the empty cell), quoted with inner quotes doubled when it holds a quote, comma, CR or LF.
    With ``formula_safe``, a cell starting like a formula (= + - @ tab CR) gets a leading
    apostrophe first, as the reference CSV writer does. ``strpos`` and ``ascii`` rather than
    regular expressions, which ran about twenty times a row and took a quarter of the time.
    ``text`` is read several times: pass a column, not an expression (PostgreSQL would compute
    it each time)."""
    quoted = f"""'"' || replace({text}, '"', '""') || '"'"""
    needs_quotes = (
        f"""strpos({text}, '"') > 0 OR strpos({text}, ',') > 0 """
        f"OR strpos({text}, chr(10)) > 0 OR strpos({text}, chr(13)) > 0"
    )
    formula = (
        f"WHEN ascii({text}) IN (61, 43, 45, 64, 9, 13) THEN CASE WHEN {needs_quotes} "
        f"""THEN '"''' || replace({text}, '"', '""') || '"' ELSE '''' || {text} END """
        if formula_safe
        else ""
    )
    return (
        f"CASE WHEN {text} IS NULL THEN '' {formula}"
        f"WHEN {text} = '' OR {needs_quotes} THEN {quoted} ELSE {text} END"
    )


def _label_text(column: str) -> str:
    """A jsonb label as the CSV shows it: a string's text, anything else as JSON (``#>> '{}'``
    gives a scalar's text and a container's JSON; only JSON null needs ``::text``)."""
    return f"coalesce({column} #>> '{{}}', {column}::text)"


# Text cells of a CSV row computed one query level below ``csv_line``, once per row: the
# quoting reads each several times.
CSV_TEXTS = {
    "t_label": _label_text("s.label"),
    "t_consensus": _label_text("s.consensus"),
    "t_data": "s.data::text",
    "t_metadata": "s.metadata::text",
}


def csv_line() -> str:
    """Every cell of a CSV row (``formats.CSV_COLUMNS``) up to the split's, whose comma ends it;
    ``answers`` is empty on the fast path. Numbers and booleans never need quotes."""
    cells = [
        "s.item_id::text",
        _csv_cell("s.external_id", formula_safe=True),
        _csv_cell("s.t_label", formula_safe=True),
        "coalesce(s.label_source, '')",
        _csv_cell("s.t_consensus", formula_safe=True),
        # The method asked, or the run's: the common case is a constant, quoted once when planned.
        f"CASE WHEN s.method = %(m)s THEN {_csv_cell('%(m)s')} ELSE {_csv_cell('s.method')} END",
        "coalesce(s.confidence::text, '')",
        "coalesce(s.agreement::text, '')",
        "s.n_answers::text",
        "CASE WHEN s.is_gold THEN 'true' ELSE 'false' END",
        "CASE WHEN s.is_tie THEN 'true' ELSE 'false' END",
        _csv_cell("s.resolved_by", formula_safe=True),
        _csv_cell("s.resolved_text"),
        f"CASE WHEN s.status = 'open' THEN 'open' ELSE {_csv_cell('s.status')} END",
        "%(version_text)s",
        _csv_cell("s.media", formula_safe=True),
        _csv_cell("s.t_data", formula_safe=True),
        _csv_cell("s.t_metadata", formula_safe=True),
    ]
    # The empty answers cell and the comma before the split.
    return "\n        || ',' || ".join(cells) + " || ',,'"
