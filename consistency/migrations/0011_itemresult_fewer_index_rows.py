"""Fewer index entries for a run to build: every run builds its partition's indexes on its own
rows (1M rows: about 4 s of PostgreSQL's CPU, on the run's critical path). The unique constraint
starts with item, so it also serves lookups by item (the item index goes); the disagreement and
class-pair indexes hold only disagreeing rows and rows whose answers split, the only rows their
queries ask for. On PostgreSQL each operation applies to every existing partition."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("consistency", "0010_agreementrun_results_pruned_at"),
        ("labeling", "0016_jobs_audit_accounts_moved_to_core"),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name="itemresult",
            name="itemresult_unique_run_item",
        ),
        migrations.RemoveIndex(
            model_name="itemresult",
            name="itemresult_run_disagreement",
        ),
        migrations.RemoveIndex(
            model_name="itemresult",
            name="itemresult_run_class_pair",
        ),
        migrations.AlterField(
            model_name="itemresult",
            name="item",
            field=models.ForeignKey(
                db_constraint=False,
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="results",
                to="labeling.item",
            ),
        ),
        migrations.AddIndex(
            model_name="itemresult",
            index=models.Index(
                condition=models.Q(("disagreement__gt", 0)),
                fields=["run", "-disagreement"],
                name="itemresult_run_disagreement",
            ),
        ),
        migrations.AddIndex(
            model_name="itemresult",
            index=models.Index(
                condition=models.Q(("second_class", ""), _negated=True),
                fields=["run", "first_class", "second_class"],
                name="itemresult_run_class_pair",
            ),
        ),
        migrations.AddConstraint(
            model_name="itemresult",
            constraint=models.UniqueConstraint(fields=("item", "run"), name="itemresult_unique_item_run"),
        ),
    ]
