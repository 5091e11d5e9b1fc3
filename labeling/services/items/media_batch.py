"""Media files of an import job, decoded one by one and written in growing batches."""

import hashlib
import time
import uuid
from dataclasses import dataclass

from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction

from labeling.imports.media import (
    ProcessedMedia,
    RejectedMedia,
    external_id_from_name,
    numbered_name,
    process_media,
    sanitize_filename,
)
from labeling.models import Item, Project
from labeling.selectors.projects import project_item_count_forget
from labeling.services.items.records import MAX_LISTED, MAX_REJECTED


def note_rejected(result: dict, name: str, reason: str) -> None:
    result["rejected_count"] += 1
    if len(result["rejected"]) < MAX_REJECTED:
        result["rejected"].append({"file": sanitize_filename(name), "reason": reason})


@dataclass
class _Pending:
    name: str
    external_id: str
    digest: str
    content: bytes
    processed: ProcessedMedia
    metadata: dict


class MediaBatch:
    """Accepted media wait here and are written in batches: one query finds the ids already in
    the project, files are stored only for new items, one INSERT per batch in its own
    transaction (a worker killed mid-job leaves whole batches; its redelivery skips them).
    A batch is written at 32 MB, a quarter of a second, or a number of files that starts at 10
    and doubles up to 100, so the first items appear at once and the rest as the job goes."""

    MAX_ITEMS = 100
    MAX_BYTES = 32 * 1024**2
    MAX_SECONDS = 0.25

    def __init__(self, project: Project, result: dict):
        self.project, self.result = project, result
        self.pending: list[_Pending] = []
        self.bytes = 0
        self.started = 0.0
        self.limit = 10
        self.created: list[Item] = []

    def add(self, name: str, content: bytes, metadata: dict) -> None:
        try:
            processed = process_media(content)
        except RejectedMedia as exc:
            note_rejected(self.result, name, str(exc))
            return
        if processed.kind != self.project.data_type:
            note_rejected(self.result, name, f"{processed.kind} file in a {self.project.data_type} project")
            return
        digest = hashlib.sha256(content).hexdigest()
        given = str(metadata.pop("external_id", "") or "")[:255]
        if not self.pending:
            self.started = time.monotonic()
        self.pending.append(_Pending(name, given, digest, content, processed, metadata))
        self.bytes += len(content)
        if (
            len(self.pending) >= self.limit
            or self.bytes >= self.MAX_BYTES
            or time.monotonic() - self.started >= self.MAX_SECONDS
        ):
            self.flush()

    def _skip(self, external_id: str) -> None:
        self.result["skipped_existing"] += 1
        if len(self.result["skipped_existing_ids"]) < MAX_LISTED:
            self.result["skipped_existing_ids"].append(external_id)

    def _item(self, entry: _Pending) -> Item:
        item = Item(
            project=self.project,
            kind=self.project.data_type,
            external_id=entry.external_id,
            content_hash=entry.digest,
            original_filename=sanitize_filename(entry.name),
            metadata=entry.metadata,
            quality=entry.processed.quality,
            target=self.project.initial_target,
        )
        stem = uuid.uuid4().hex  # stored under a server-made name, never the uploaded one
        item.media.save(f"{stem}{entry.processed.suffix}", ContentFile(entry.content), save=False)
        if entry.processed.thumbnail:
            item.thumbnail.save(f"{stem}.jpg", ContentFile(entry.processed.thumbnail), save=False)
        if entry.processed.waveform:
            item.waveform.save(f"{stem}.json", ContentFile(entry.processed.waveform), save=False)
        return item

    @staticmethod
    def _delete_files(item: Item) -> None:
        for stored in (item.media, item.thumbnail, item.waveform):
            if stored:
                stored.delete(save=False)

    def _name_ids(self, pending: list[_Pending]) -> list[_Pending]:
        """Files without an id from a sidecar are named by their file name. The same bytes
        already in the project are skipped (an upload retried); another file of the same name
        becomes ``name (2).ext``."""
        named = [p for p in pending if not p.external_id]
        if not named:
            return pending
        known = dict(
            Item.objects.filter(project=self.project, content_hash__in={p.digest for p in named})
            .exclude(content_hash="")
            .values_list("content_hash", "external_id")
        )
        wanted = {external_id_from_name(p.name) for p in named}
        taken = set(
            Item.objects.filter(project=self.project, external_id__in=wanted).values_list(
                "external_id", flat=True
            )
        )
        kept = [p for p in pending if p.external_id]
        for entry in named:
            if entry.digest in known:
                self._skip(known[entry.digest])
                continue
            name = external_id_from_name(entry.name)
            candidate, n = name, 1
            while candidate in taken:
                n += 1
                candidate = numbered_name(name, n)
                if n == 2:  # a clash: learn every number already used for this name at once
                    prefix = numbered_name(name, 2).rsplit(" (2)", 1)[0] + " ("
                    taken |= set(
                        Item.objects.filter(project=self.project, external_id__startswith=prefix).values_list(
                            "external_id", flat=True
                        )
                    )
            entry.external_id = candidate
            taken.add(candidate)
            known[entry.digest] = candidate  # the same bytes twice in one upload: one item
            kept.append(entry)
        return kept

    def undo(self) -> int:
        """Remove what this job stored (a failed import stores nothing); the number removed."""
        ids = [item.pk for item in self.created if item.pk is not None]
        Item.objects.filter(pk__in=ids).delete()
        project_item_count_forget(project_id=self.project.id)
        for item in self.created:
            self._delete_files(item)
        self.created.clear()
        return len(ids)

    def flush(self) -> None:
        pending, self.pending, self.bytes = self.pending, [], 0
        self.limit = min(self.MAX_ITEMS, self.limit * 2)
        pending = self._name_ids(pending)
        if not pending:
            return
        existing = set(
            Item.objects.filter(
                project=self.project, external_id__in={p.external_id for p in pending}
            ).values_list("external_id", flat=True)
        )
        items = []
        for entry in pending:
            if entry.external_id in existing:
                self._skip(entry.external_id)
            else:
                existing.add(entry.external_id)  # the same file twice in one upload
                items.append(self._item(entry))
        try:
            with transaction.atomic():
                Item.objects.bulk_create(items)
            self.result["created"] += len(items)
            self.created += items
        except IntegrityError:  # a concurrent import took some of these ids: one by one
            for item in items:
                try:
                    with transaction.atomic():
                        item.save()
                    self.result["created"] += 1
                    self.created.append(item)
                except IntegrityError:
                    self._delete_files(item)
                    self._skip(item.external_id)
