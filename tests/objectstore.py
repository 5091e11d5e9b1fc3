"""A real S3 API for the tests: moto's standalone server in a process of its own, and a bucket
per test that this process, gunicorn and the Celery worker all use."""

import os
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest

from config.settings.storage import object_storage_settings

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"nothing listens on port {port}")


@pytest.fixture(scope="session")
def s3_endpoint():
    """`moto_server` on a free port: an S3 API that signs and checks presigned URLs as S3 does."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_port(port)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)


@dataclass
class Bucket:
    name: str
    env: dict[str, str]
    media_root: Path

    def object_keys(self) -> list[str]:
        from django.core.files.storage import default_storage

        client = default_storage.connection.meta.client
        pages = client.get_paginator("list_objects_v2").paginate(Bucket=self.name)
        return [entry["Key"] for page in pages for entry in page.get("Contents", [])]


def bucket_env(endpoint: str, name: str) -> dict[str, str]:
    return {
        "AWS_STORAGE_BUCKET_NAME": name,
        "AWS_S3_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",  # moto accepts any key, but signs with this one
        "AWS_S3_REGION_NAME": "us-east-1",
    }


def use_bucket(settings, monkeypatch, env: dict[str, str], media_root: Path) -> None:
    """This process and every process started after this (gunicorn, worker) use the bucket;
    MEDIA_ROOT points at an empty folder that must stay empty."""
    for key, value in {**env, "MEDIA_ROOT": str(media_root)}.items():
        monkeypatch.setenv(key, value)
    settings.MEDIA_ROOT = media_root
    values = object_storage_settings(env, settings.STORAGES)
    storages = values.pop("STORAGES")
    for key, value in values.items():
        setattr(settings, key, value)
    settings.STORAGES = storages  # last: resets default_storage with the settings above


@pytest.fixture
def bucket(s3_endpoint, settings, monkeypatch, tmp_path):
    """A fresh bucket on the moto server, prepared as `manage.py bucket_prepare` does."""
    from labeling.storage import bucket_prepare

    name = f"concord-{uuid.uuid4().hex[:12]}"
    env = bucket_env(s3_endpoint, name)
    media_root = tmp_path / "media"
    media_root.mkdir()
    use_bucket(settings, monkeypatch, env, media_root)
    bucket_prepare(origins=["*"])
    return Bucket(name=name, env=env, media_root=media_root)


def files_under(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file()] if folder.exists() else []


def environ_without_bucket() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
