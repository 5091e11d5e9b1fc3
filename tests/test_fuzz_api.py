"""A property-based fuzz of the whole REST API, generated from its OpenAPI schema.

Every operation in the schema (so a new endpoint is covered without editing this file) gets:
- hostile values in each JSON field, query parameter and uploaded file it declares: NUL, a lone
  surrogate, 10**30, -1, deep nesting, a 1 MB string, wrong types, empty objects; and hostile
  whole bodies (100,000 levels deep, a bare string, a list);
- Schemathesis cases (valid and invalid data drawn from the schema by Hypothesis, derandomized so
  a CI run is repeatable);
sent as a role the role matrix (tests/test_role_matrix.py) lets through, with real ids in the
path, and once as each role it refuses. Every answer must be below 500, nothing may log an
error or a traceback, and a refused request (4xx) must not have written a row.
"""

import json
from urllib.parse import urlencode

import pytest
import schemathesis
from django.db import connection
from django.test import Client
from django.urls import resolve
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.core import NotSet
from schemathesis.generation.modes import GenerationMode

from tests.factories import UserFactory
from tests.test_role_matrix import ROLES, ROUTES, world  # noqa: F401 (world is a fixture)

EXAMPLES = 5  # Schemathesis cases per operation and mode
BIG = "x" * 1_000_000


def _nested(levels: int):
    value: list = []
    for _ in range(levels):
        value = [value]
    return value


HOSTILE = ["nul\x00", "lone\ud800", 10**30, -1, _nested(40), {}, [], True, None, "", 1.5e308]
HOSTILE_QUERY = ["\x00", str(10**30), "9" * 5000, "-1", "x" * 5000, "[]", "{}", "", "1e999"]
HOSTILE_FILES = [
    ("nul.csv", b"external_id,labeler,value,model_version\nx\x00,y\x00,z\x00,m\n"),
    ("deep.json", b"[" * 100_000 + b"]" * 100_000),
    ("nul.jsonl", b'{"external_id": "a\\u0000", "labeler": "b", "value": "\\ud800"}\n'),
    ("huge.jsonl", b'{"external_id": "a", "value": %d}\n' % 10**30),
    ("garbage.zip", b"PK\x03\x04" + b"\xff" * 1000),
]
WHOLE_BODIES = ["[" * 100_000 + "]" * 100_000, '"\\u0000"', "[]", "1" + "0" * 30, "{"]
# Operations whose body the schema only calls an object: the fields their docs name.
FREE_FORM_FIELDS = {
    "/api/projects/{project_id}/schema-changes/": [
        "op", "classes", "into", "name", "from", "to", "class", "rules", "instructions", "dry_run", "note",
    ],
}  # fmt: skip
# Tables a refused request may still write: the audit trail of refusals, sessions, login attempts.
MAY_WRITE = ("labeling_auditevent", "django_session", "axes_")


@pytest.fixture(scope="module")
def api_schema(django_db_blocker):
    with django_db_blocker.unblock():
        raw = SchemaGenerator().get_schema(request=None, public=True)
    return raw, schemathesis.openapi.from_dict(raw)


def _row_counts() -> dict[str, int]:
    tables = [t for t in connection.introspection.table_names() if not t.startswith(MAY_WRITE)]
    sql = " UNION ALL ".join(f"SELECT '{t}', count(*) FROM \"{t}\"" for t in tables)  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return dict(cursor.fetchall())


class Fuzzer:
    def __init__(self, people_and_ids: dict, caplog):
        self.world, self.caplog = people_and_ids, caplog
        self.clients: dict[str, Client] = {}
        self.sent = 0
        for role in ROLES:
            self.clients[role] = Client()
            if role != "anonymous":
                self.clients[role].force_login(people_and_ids["users"][role])
        self.clients["staff"] = Client()  # for what no project role may do (creating users)
        self.clients["staff"].force_login(UserFactory(is_staff=True))

    def path(self, template: str, generated: dict | None = None) -> str:
        """Real ids where the generated value is a number (so requests reach validation); the
        generated text elsewhere (the URL then matches no route, or an id no one has)."""
        path = template
        for name, real in self.world["ids"].items():
            value = (generated or {}).get(name, real)
            value = real if isinstance(value, int) and not isinstance(value, bool) else value
            path = path.replace("{" + name + "}", str(value))
        return path

    def roles(self, template: str, method: str) -> tuple[list[str], list[str]]:
        outcomes = ROUTES[resolve(self.path(template)).url_name][method.upper()]
        allowed = [role for role in ROLES if outcomes[role] == "ok"]
        return allowed or ["staff"], [role for role in ROLES if outcomes[role] != "ok"]

    def send(self, role, method, path, *, query=None, body=None, content_type="application/json", files=None):
        url = path + ("?" + urlencode(_wire(query), doseq=True) if query else "")
        before = _row_counts()
        self.caplog.clear()
        client = self.clients[role]
        if files is not None:
            response = client.post(url, {**(body or {}), **files})
        elif body is None:
            response = client.generic(method.upper(), url)
        else:
            data = body if isinstance(body, str | bytes) else json.dumps(body)
            response = client.generic(method.upper(), url, data, content_type=content_type)
        if getattr(response, "streaming", False):
            b"".join(response.streaming_content)  # a stream that breaks mid-way fails here
        self.sent += 1
        where = f"{method.upper()} {url[:200]} as {role} ({str(body)[:200]!r})"
        assert response.status_code < 500, where
        logged = [r for r in self.caplog.records if r.levelname in ("ERROR", "CRITICAL") or r.exc_info]
        assert not logged, f"{where} logged {logged[0].getMessage()[:300]}"
        if 400 <= response.status_code < 500:
            after = _row_counts()
            assert after == before, f"{where}: {response.status_code} but wrote rows " + str(
                {t: (before.get(t), n) for t, n in after.items() if before.get(t) != n}
            )
        return response


def _wire(pairs):
    """Text as a client puts it on the wire: a lone surrogate becomes the invalid UTF-8 bytes."""
    items = pairs.items() if isinstance(pairs, dict) else pairs
    return [(k, v.encode("utf-8", "surrogatepass") if isinstance(v, str) else v) for k, v in items]


def _resolve(raw: dict, schema: dict) -> dict:
    while "$ref" in schema:
        schema = raw["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def _operations(raw: dict):
    for template, methods in raw["paths"].items():
        for method, operation in methods.items():
            yield template, method, operation


@pytest.mark.django_db
def test_hostile_values_in_every_field_parameter_and_file(world, api_schema, caplog):  # noqa: F811
    raw, _ = api_schema
    fuzz = Fuzzer(world, caplog)
    operations = list(_operations(raw))
    assert len(operations) > 30
    for template, method, operation in operations:
        allowed, refused = fuzz.roles(template, method)
        path = fuzz.path(template)
        role = "manager" if "manager" in allowed else allowed[0]
        content = operation.get("requestBody", {}).get("content", {})
        if "application/json" in content:
            fields = list(_resolve(raw, content["application/json"]["schema"]).get("properties", {}))
            fields += FREE_FORM_FIELDS.get(template, [])
            fields += [p["name"] for p in operation.get("parameters", []) if p["in"] == "query"]
            for index, name in enumerate(dict.fromkeys(fields)):
                for value in [*HOSTILE, *([BIG] if index == 0 else [])]:
                    fuzz.send(role, method, path, body={name: value})
            for body in WHOLE_BODIES:
                fuzz.send(role, method, path, body=body)
        if "multipart/form-data" in content:
            form = _resolve(raw, content["multipart/form-data"]["schema"]).get("properties", {})
            for name, data in HOSTILE_FILES:
                from django.core.files.uploadedfile import SimpleUploadedFile

                text = {
                    k: "m1"
                    for k, v in form.items()
                    if v.get("format") != "binary" and v.get("type") != "array"
                }
                fuzz.send(role, method, path, body=text, files={"file": SimpleUploadedFile(name, data)})
        for parameter in operation.get("parameters", []):
            if parameter["in"] == "query":
                for value in HOSTILE_QUERY:
                    fuzz.send(role, method, path, query={parameter["name"]: value})
        for value in ("0", "-1", str(10**30), "%00"):  # hostile ids in the path
            bad = template
            for name in world["ids"]:
                bad = bad.replace("{" + name + "}", value)
            if bad != template:
                fuzz.send(role, method, bad)
        for other in refused:  # refused: no 5xx and nothing written, whatever the body
            fuzz.send(other, method, path, body={"value": "nul\x00", "name": "x", "classes": ["a", "b"]})
    assert fuzz.sent > 500


@pytest.mark.django_db
def test_schemathesis_cases_for_every_operation(world, api_schema, caplog):  # noqa: F811
    _, schema = api_schema
    fuzz = Fuzzer(world, caplog)
    operations = [result.ok() for result in schema.get_all_operations()]
    for operation in operations:
        allowed, _ = fuzz.roles(operation.path, operation.method)
        role = "manager" if "manager" in allowed else allowed[0]

        for mode in (GenerationMode.NEGATIVE, GenerationMode.POSITIVE):
            try:
                _cases(fuzz, role, operation, mode)()
            except Unsatisfiable:  # nothing in it can be invalid (e.g. a GET with only path ids)
                assert mode == GenerationMode.NEGATIVE
    assert fuzz.sent >= len(operations) * 2


def _cases(fuzz: Fuzzer, role: str, operation, mode: GenerationMode):
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def run(case):
        _send_case(fuzz, role, operation, case)

    return run


def _send_case(fuzz: Fuzzer, role: str, operation, case) -> None:
    path = fuzz.path(operation.path, case.path_parameters or {})
    query = {
        k: v if isinstance(v, str | int | float | list) else json.dumps(v)
        for k, v in (case.query or {}).items()
    }
    body = None if isinstance(case.body, NotSet) else case.body
    media = case.media_type or "application/json"
    if body is not None and media == "multipart/form-data":
        from django.core.files.uploadedfile import SimpleUploadedFile

        fields = body if isinstance(body, dict) else {"file": body}
        files = {
            k: SimpleUploadedFile("f", v if isinstance(v, bytes) else str(v).encode("utf-8", "surrogatepass"))
            for k, v in fields.items()
            if k == "file"
        }
        text = {k: json.dumps(v) if not isinstance(v, str) else v for k, v in fields.items() if k != "file"}
        fuzz.send(role, operation.method, path, query=query, body=text, files=files)
        return
    if body is not None and media == "application/x-www-form-urlencoded":
        pairs = body.items() if isinstance(body, dict) else [("value", body)]
        encoded = urlencode(_wire([(str(k), v if isinstance(v, str) else json.dumps(v)) for k, v in pairs]))
        fuzz.send(role, operation.method, path, query=query, body=encoded, content_type=media)
        return
    fuzz.send(role, operation.method, path, query=query, body=body)
