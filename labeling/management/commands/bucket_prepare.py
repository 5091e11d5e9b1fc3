"""`manage.py bucket_prepare`: create the bucket if missing, turn versioning on, allow browsers
to fetch presigned media URLs (CORS), so one command readies MinIO or S3 for Concord."""

from django.core.management.base import BaseCommand, CommandError

from labeling.storage import bucket_name, bucket_prepare, uses_bucket


class Command(BaseCommand):
    help = "Create and configure the object-storage bucket (AWS_STORAGE_BUCKET_NAME)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--origin",
            action="append",
            default=[],
            help="Origin allowed to fetch media (repeatable; default: any, the URLs being signed).",
        )
        parser.add_argument("--no-versioning", action="store_true", help="Leave versioning as it is.")

    def handle(self, *args, origin: list[str], no_versioning: bool, **options):
        if not uses_bucket():
            raise CommandError("AWS_STORAGE_BUCKET_NAME is not set: files go to the local disk.")
        bucket_prepare(origins=origin or ["*"], versioning=not no_versioning)
        self.stdout.write(f"Bucket {bucket_name()} ready.")
