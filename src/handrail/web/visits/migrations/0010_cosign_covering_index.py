"""The co-signature worklist's index with the case (its count reads the index alone), and on
PostgreSQL statistics of the clinician, status and co-signer together: without them the
planner multiplies the share of notes without a co-signer (nearly all: therapists' notes
need none) by the assistant's notes and expects five times the notes awaiting one, so it
reads every note of the assistant from the table instead of the index (measured on the
data-scale benchmark's clinic: 1,094 table pages for 439 notes, 12 ms to 1.2 ms).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import migrations, models


STATISTICS = "visit_cosign_stats"


def create_statistics(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f"CREATE STATISTICS {STATISTICS} (mcv) ON clinician_id, status, cosigned_by_id "
            "FROM visits_visit",
            params=None,
        )


def drop_statistics(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP STATISTICS IF EXISTS {STATISTICS}", params=None)


class Migration(migrations.Migration):

    dependencies = [
        ('care', '0003_case_discharge_reason'),
        ('clinic', '0005_patient_list_order'),
        ('visits', '0009_threshold_accrual'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name='visit',
            name='visit_awaiting_cosign',
        ),
        migrations.AddIndex(
            model_name='visit',
            index=models.Index(fields=['clinician', 'status', 'cosigned_by', 'case'], name='visit_awaiting_cosign_case'),
        ),
        migrations.RunPython(create_statistics, drop_statistics),
    ]
