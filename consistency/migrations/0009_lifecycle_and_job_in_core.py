# The run follows core's job lifecycle (core.jobs.lifecycle): two help texts, no schema change.
# A snapshot's job is core.Job now: the same table (labeling_job), so only the state changes.

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("consistency", "0008_itemresult_partitioned_by_run"),
        ("core", "0001_initial"),
    ]

    operations = [
        migrations.AlterField(
            model_name="agreementrun",
            name="attempts",
            field=models.PositiveSmallIntegerField(
                default=0, help_text="How many times a worker started it."
            ),
        ),
        migrations.AlterField(
            model_name="agreementrun",
            name="progress",
            field=models.PositiveSmallIntegerField(default=0, help_text="0 to 100."),
        ),
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="datasetsnapshot",
                    name="job",
                    field=models.OneToOneField(
                        on_delete=django.db.models.deletion.PROTECT, related_name="snapshot", to="core.job"
                    ),
                ),
            ],
        ),
    ]
