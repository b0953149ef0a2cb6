"""Make claim events (a claim's state changes) append-only in the database itself, as the
audit table is (handrail.web.append_only)."""

from __future__ import annotations

from typing import Any

from django.db import migrations

from handrail.web import append_only

TABLES = (("billing_claimevent", "claim events"),)


def install(apps: Any, schema_editor: Any) -> None:
    append_only.run(schema_editor, TABLES, install=True)


def remove(apps: Any, schema_editor: Any) -> None:
    append_only.run(schema_editor, TABLES, install=False)


class Migration(migrations.Migration):
    dependencies = [
        ("billing", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(install, remove),
    ]
