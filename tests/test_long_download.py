"""A download that streams for longer than gunicorn's worker timeout completes, with gunicorn
started exactly as the Dockerfile starts it.

gunicorn's sync worker (its default) cannot report to the arbiter while it serves a request,
so the arbiter kills it once a request takes longer than ``--timeout`` (30 s by default): a
1M-item export on a loaded machine, or a slow client, lost its connection mid-file. The image
runs the threaded worker, whose main thread keeps reporting while a thread streams. Here the
timeout is 3 s (``GUNICORN_CMD_ARGS``, which gunicorn reads as a user would set it) and the
client pauses 9 s in the middle of the file with a small receive buffer, so the server must
hold the response open across three timeouts.
"""

import http.client
import socket
import subprocess
import time

import pytest
from rest_framework.authtoken.models import Token

from labeling.models import Item
from tests.bulk import items_insert
from tests.factories import ProjectFactory
from tests.helpers import http_call
from tests.test_entry_points import ROOT, _dockerfile_cmd, _free_port, _image_env
from tests.worker import live_database_url

ITEMS = 40_000  # about 9 MB of JSONL: far more than the two sockets' buffers hold
TIMEOUT = 3


class _SmallBufferConnection(http.client.HTTPConnection):
    """A client that takes the file slowly: a 16 KB receive buffer, so the server's writes
    block while the client pauses (instead of landing in kernel buffers at once)."""

    def connect(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16 * 1024)
        self.sock.settimeout(self.timeout)
        self.sock.connect((self.host, self.port))


@pytest.mark.django_db(transaction=True)
def test_an_export_paused_longer_than_the_worker_timeout_completes(staff, tmp_path):
    project = ProjectFactory(created_by=staff, name="long download", classes=["a", "b"])
    items_insert(project=project, count=ITEMS)
    # Gold on every item: each is listed with a label, no run needed.
    Item.objects.filter(project=project).update(
        is_gold=True, gold_value="a", gold_version=project.schema_version
    )
    token = Token.objects.create(user=staff).key
    env = _image_env(
        SECRET_KEY="k" * 50 + "-long-download",
        DATABASE_URL=live_database_url(),
        CONCORD_VAR_DIR=str(tmp_path),
        GUNICORN_CMD_ARGS=f"--timeout {TIMEOUT}",
    )
    port = _free_port()
    command = _dockerfile_cmd()
    command[command.index("--bind") + 1] = f"127.0.0.1:{port}"
    command[command.index("--workers") + 1] = "1"  # one worker: one warm-up below
    process = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    headers = {"Authorization": f"Token {token}", "X-Forwarded-Proto": "https"}
    try:
        deadline = time.monotonic() + 90
        while True:  # started, and the API's modules imported (the first request imports them)
            try:
                status, _, _ = http_call(f"http://127.0.0.1:{port}/api/projects/", headers=headers)
                if status == 200:
                    break
            except OSError:
                pass
            assert process.poll() is None, process.stdout.read()
            assert time.monotonic() < deadline, "gunicorn did not start"
            time.sleep(0.2)
        connection = _SmallBufferConnection("127.0.0.1", port, timeout=60)
        connection.request(
            "GET",
            f"/api/projects/{project.id}/export/?format=jsonl",
            headers=headers,
        )
        response = connection.getresponse()
        if response.status != 200:
            process.terminate()
            pytest.fail(f"{response.status}: {process.communicate(timeout=20)[0][-3000:]}")
        first = response.read(64 * 1024)
        time.sleep(3 * TIMEOUT)  # the server's writes block all this time
        rest = response.read()
        connection.close()
        body = first + rest
        lines = body.splitlines()
        if len(lines) != ITEMS:
            process.terminate()
            pytest.fail(f"{len(lines)} of {ITEMS} lines: {process.communicate(timeout=20)[0][-3000:]}")
        assert b'"external_id": "bulk-40000"' in lines[-1] or b'"external_id":"bulk-40000"' in lines[-1]
    finally:
        process.terminate()
        output, _ = process.communicate(timeout=20)
    assert "WORKER TIMEOUT" not in output, output[-2000:]
