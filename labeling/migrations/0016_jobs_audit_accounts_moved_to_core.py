# Job, AuditEvent and PasswordChangeRequired belong to core now (core 0001 took them over with
# their tables): they leave labeling's state only; the tables stay as they are.

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("labeling", "0015_item_external_id_trigram_search"),
        ("core", "0001_initial"),
        # After the snapshot's job pointed at core.Job.
        ("consistency", "0009_lifecycle_and_job_in_core"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(name="AuditEvent"),
                migrations.DeleteModel(name="Job"),
                migrations.DeleteModel(name="PasswordChangeRequired"),
            ],
        ),
    ]
