"""Object-storage settings from the environment, in one function the test fixtures reuse."""

from collections.abc import Mapping


def _int(environ: Mapping[str, str], name: str, default: int) -> int:
    value = environ.get(name) or ""
    return int(value) if value.strip() else default


def object_storage_settings(environ: Mapping[str, str], storages: dict) -> dict:
    """Django settings for the bucket named by ``AWS_STORAGE_BUCKET_NAME``, or for the local disk.

    Returns the settings to merge (always ``AWS_STORAGE_BUCKET_NAME``, ``CONCORD_MEDIA_ORIGIN``
    and ``STORAGES``); the S3 backend's names are django-storages' own.
    """
    bucket = environ.get("AWS_STORAGE_BUCKET_NAME", "")
    # Where browsers fetch presigned URLs from (added to the Content-Security-Policy); derived
    # from AWS_S3_ENDPOINT_URL or the AWS bucket host unless set (e.g. a CDN before the bucket).
    # The bucket's address as browsers reach it, when it differs from the app's (MinIO behind
    # docker-compose: the app says http://minio:9000, a browser http://localhost:9000).
    # Presigned URLs are signed for this host; signing needs no connection to it.
    public = environ.get("CONCORD_MEDIA_ENDPOINT_URL", "")
    values: dict = {
        "CONCORD_MEDIA_ENDPOINT_URL": public,
        "AWS_STORAGE_BUCKET_NAME": bucket,
        "CONCORD_MEDIA_ORIGIN": environ.get("CONCORD_MEDIA_ORIGIN", ""),
    }
    if not bucket:
        values["STORAGES"] = {
            **storages,
            "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        }
        return values
    from botocore.config import Config

    endpoint = environ.get("AWS_S3_ENDPOINT_URL") or None  # MinIO, moto, R2…; None: AWS itself
    values.update(
        AWS_S3_ENDPOINT_URL=endpoint,
        AWS_S3_REGION_NAME=environ.get("AWS_S3_REGION_NAME") or None,
        AWS_ACCESS_KEY_ID=environ.get("AWS_ACCESS_KEY_ID") or None,  # None: the instance's role
        AWS_SECRET_ACCESS_KEY=environ.get("AWS_SECRET_ACCESS_KEY") or None,
        AWS_S3_SIGNATURE_VERSION="s3v4",
        # Path-style URLs for a custom endpoint (MinIO has no per-bucket host names by default).
        AWS_S3_ADDRESSING_STYLE="path" if endpoint else "virtual",
        AWS_S3_FILE_OVERWRITE=False,  # a name already taken gets a suffix, never overwritten
        AWS_DEFAULT_ACL=None,  # objects stay private: browsers get presigned URLs only
        AWS_QUERYSTRING_AUTH=True,
        # Presigned URLs live this long; each page load asks the app for a fresh one.
        AWS_QUERYSTRING_EXPIRE=_int(environ, "CONCORD_MEDIA_URL_SECONDS", 300),
        # Files read from the bucket (zips, record files) spill to a temp file past 8 MB, so a
        # worker's memory stays bounded whatever the upload's size (django-storages' default, 0,
        # keeps the whole object in memory).
        AWS_S3_MAX_MEMORY_SIZE=8 * 1024**2,
        # Fail fast when the bucket is unreachable: uploads answer 503 rather than hang.
        # (django-storages uses this Config as given: signature and addressing style go in it too.)
        AWS_S3_CLIENT_CONFIG=Config(
            signature_version="s3v4",
            s3={"addressing_style": "path" if endpoint else "virtual"},
            connect_timeout=_int(environ, "AWS_S3_CONNECT_TIMEOUT", 3),
            read_timeout=_int(environ, "AWS_S3_READ_TIMEOUT", 30),
            retries={"max_attempts": 2, "mode": "standard"},
        ),
        STORAGES={**storages, "default": {"BACKEND": "storages.backends.s3.S3Storage"}},
    )
    return values
