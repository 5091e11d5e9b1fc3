"""Item metadata keys in queries: data, never ORM lookup syntax, and text on every database."""

from django.db.models import TextField
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast


def metadata_text(key: str, field: str = "metadata") -> Cast:
    """The metadata value under ``key`` as text, to compare with what a client typed.

    A bare ``KeyTextTransform`` compared with ``=`` gets Django's JSON ``exact`` lookup, which on
    SQLite reads the other side as JSON: ``slice=factory:Chennai`` failed with "malformed JSON"
    (then reported as a lost connection). The cast makes it a plain text comparison everywhere.
    """
    return Cast(KeyTextTransform(str(key), field), output_field=TextField())
