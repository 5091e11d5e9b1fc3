from django.conf import settings
from django.db import migrations, models


def keep_first_use_of_each_key(apps, schema_editor):
    """Rows that reused a labeler's key (the race this constraint closes) lose the key; the
    answers themselves stay as they are."""
    Annotation = apps.get_model("labeling", "Annotation")
    seen: set[tuple[int, str]] = set()
    rows = (
        Annotation.objects.exclude(idempotency_key="")
        .order_by("id")
        .values_list("id", "labeler_id", "idempotency_key")
    )
    duplicates = []
    for pk, labeler_id, key in rows.iterator():
        if (labeler_id, key) in seen:
            duplicates.append(pk)
        seen.add((labeler_id, key))
    Annotation.objects.filter(pk__in=duplicates).update(idempotency_key="")


class Migration(migrations.Migration):
    dependencies = [
        ("labeling", "0008_prelabels"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RunPython(keep_first_use_of_each_key, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="annotation",
            constraint=models.UniqueConstraint(
                condition=models.Q(("idempotency_key", ""), _negated=True),
                fields=("labeler", "idempotency_key"),
                name="annotation_unique_labeler_idempotency_key",
            ),
        ),
    ]
