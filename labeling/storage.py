"""Where files live: the local disk (`make run`) or an S3-compatible bucket (django-storages).

Every file the app stores or reads goes through Django's storage API; this module holds the
few things the API does not say: whether browsers get presigned URLs, how a bucket failure
becomes a 503 the caller can retry, and how a per-job folder (a key prefix in a bucket) is
removed.
"""

import contextlib
import functools
import logging
import os
from collections.abc import Iterator
from typing import TYPE_CHECKING, cast
from urllib.parse import urlsplit

from django.conf import settings
from django.core.files.storage import FileSystemStorage, default_storage, storages

from core.errors import ServiceUnavailable

if TYPE_CHECKING:  # django-storages has no type information: its S3Storage is Any to mypy
    from storages.backends.s3 import S3Storage

logger = logging.getLogger(__name__)


class StorageUnavailable(ServiceUnavailable):
    """The bucket (or disk) refused a write or could not be reached: nothing was stored."""

    code = "storage_unavailable"
    retry_after_seconds = 30

    def __init__(self, message: str = "File storage is unavailable; nothing was stored. Retry in a minute."):
        super().__init__(message)


# The AWS_* settings are merged from config.settings.storage at start-up (the S3 names only
# with a bucket), so they are read by name here, where the type checker can't see them.
def bucket_name() -> str:
    """The bucket the files live in ('' on the local disk)."""
    return str(getattr(settings, "AWS_STORAGE_BUCKET_NAME", ""))


def _url_seconds() -> int:
    """How long a presigned URL lives (bucket only)."""
    return int(settings.AWS_QUERYSTRING_EXPIRE)  # type: ignore[misc]  # merged at start-up, see above


def _bucket_storage(storage: object) -> "S3Storage":
    """The storage as django-storages' S3 backend, which it is when ``uses_bucket()``."""
    return cast("S3Storage", storage)


def uses_bucket() -> bool:
    """True when files live in a bucket and browsers fetch them by presigned URL."""
    return bool(bucket_name())


def _storage_errors() -> tuple[type[BaseException], ...]:
    errors: tuple[type[BaseException], ...] = (OSError,)
    if uses_bucket():
        from botocore.exceptions import BotoCoreError, ClientError

        errors += (BotoCoreError, ClientError)
    return errors


@contextlib.contextmanager
def storage_guard() -> Iterator[None]:
    """Turn a storage failure (unreachable bucket, 5xx, full disk) into StorageUnavailable."""
    try:
        yield
    except _storage_errors() as exc:
        logger.warning("file storage failed: %s", exc)
        raise StorageUnavailable() from exc


def storage_check() -> None:
    """Raise StorageUnavailable unless the bucket answers now (one HEAD request).

    Called before accepting work whose files a worker will write later (a snapshot), so the
    caller hears 503 at once rather than a job that fails minutes later.
    """
    if not uses_bucket():
        return
    with storage_guard():
        _bucket_storage(default_storage).connection.meta.client.head_bucket(Bucket=bucket_name())


def presigned_url(name: str, *, content_type: str, attachment: str | None = None) -> str:
    """A short-lived signed GET URL for a stored file (bucket only).

    The type and disposition are fixed by the signature (response-content-type,
    response-content-disposition): the bucket answers with ours, not with what was uploaded.
    Range requests work against it as against any S3 object.
    """
    parameters = {"ResponseContentType": content_type}
    if attachment:
        parameters["ResponseContentDisposition"] = f'attachment; filename="{attachment}"'
    public = getattr(settings, "CONCORD_MEDIA_ENDPOINT_URL", "")
    if not public:
        return _bucket_storage(default_storage).url(name, parameters=parameters, expire=_url_seconds())
    return _signer(public).generate_presigned_url(
        "get_object",
        Params={"Bucket": bucket_name(), "Key": name, **parameters},
        ExpiresIn=_url_seconds(),
    )


@functools.lru_cache(maxsize=4)
def _signer(endpoint: str):
    """An S3 client for the browsers' address of the bucket, used only to sign URLs."""
    storage = _bucket_storage(storages["default"])
    session = storage._create_session()
    return session.client(
        "s3", endpoint_url=endpoint, region_name=storage.region_name, config=storage.client_config
    )


def media_origin() -> str:
    """The origin presigned URLs point at (for the Content-Security-Policy), '' without a bucket."""
    if not uses_bucket():
        return ""
    if explicit := getattr(settings, "CONCORD_MEDIA_ORIGIN", ""):
        return explicit
    endpoint = getattr(settings, "CONCORD_MEDIA_ENDPOINT_URL", "") or getattr(
        settings, "AWS_S3_ENDPOINT_URL", None
    )
    if endpoint:
        parts = urlsplit(endpoint)
        return f"{parts.scheme}://{parts.netloc}"
    region = getattr(settings, "AWS_S3_REGION_NAME", None) or "us-east-1"
    return f"https://{bucket_name()}.s3.{region}.amazonaws.com"


def folder_remove(prefix: str) -> None:
    """Delete every file under ``prefix`` (a per-job folder) and, on disk, the folder itself.

    In a bucket a folder is only a key prefix: listing it is the way to find what is there
    (``exists`` answers for single keys only).
    """
    try:
        _, names = default_storage.listdir(prefix)
    except FileNotFoundError:
        return
    for name in names:
        default_storage.delete(f"{prefix}/{name}")
    if isinstance(default_storage, FileSystemStorage):
        with contextlib.suppress(OSError):
            os.rmdir(default_storage.path(prefix))


def bucket_prepare(*, origins: list[str], versioning: bool = True) -> None:
    """Create the bucket when missing, enable versioning (undo for deletes and overwrites, the
    bucket half of backups), and a CORS rule so the workspace's fetch() of a presigned audio or
    waveform URL is allowed after the app's redirect (the signature is the credential)."""
    from botocore.exceptions import ClientError

    client = _bucket_storage(default_storage).connection.meta.client
    bucket = bucket_name()
    try:
        client.head_bucket(Bucket=bucket)
    except ClientError:
        region = getattr(settings, "AWS_S3_REGION_NAME", None)
        extra = (
            {"CreateBucketConfiguration": {"LocationConstraint": region}}
            if region not in {None, "us-east-1"}
            else {}
        )
        client.create_bucket(Bucket=bucket, **extra)
    if versioning:
        client.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    client.put_bucket_cors(
        Bucket=bucket,
        CORSConfiguration={
            "CORSRules": [
                {
                    "AllowedOrigins": origins,
                    "AllowedMethods": ["GET", "HEAD"],
                    "AllowedHeaders": ["Range"],
                    "ExposeHeaders": ["Content-Length", "Content-Range", "Accept-Ranges"],
                    "MaxAgeSeconds": 3600,
                }
            ]
        },
    )
