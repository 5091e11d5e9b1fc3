"""`python manage.py demo`: four projects from the course notes, with real generated media.

Idempotent: running it again creates nothing twice (accounts, projects and items are
looked up by their natural keys first).
"""

from django.core.management.base import BaseCommand
from django.db import transaction

from demo.services import DEMO_PASSWORD, demo_load


class Command(BaseCommand):
    help = "Create the demo accounts and the four course projects (defects, defect boxes, speech, pairs)."

    def handle(self, *args, **options):
        with transaction.atomic():
            summary = demo_load()
        for project in summary["projects"]:
            self.stdout.write(f"  project #{project['id']}: {project['name']} ({project['items']} items)")
        self.stdout.write(self.style.SUCCESS("Demo ready. Log in at http://127.0.0.1:8000/login/ with:"))
        for username, role in summary["accounts"]:
            self.stdout.write(f"  {username:<10} {role:<28} password: {DEMO_PASSWORD}")
