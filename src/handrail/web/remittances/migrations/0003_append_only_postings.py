"""Make the posted remittances append-only in the database itself, as the audit table is
(handrail.web.append_only): the file, its payments, claim and line payments, adjustments and
provider adjustments are written once when the 835 is posted; a reversal is a new posting
with negative amounts, never an edit."""

from __future__ import annotations

from typing import Any

from django.db import migrations

from handrail.web import append_only

TABLES = (
    ("remittances_remittance", "posted remittances"),
    ("remittances_paymentadvice", "posted payments"),
    ("remittances_claimpayment", "claim payments"),
    ("remittances_linepayment", "line payments"),
    ("remittances_adjustment", "posted adjustments"),
    ("remittances_provideradjustment", "provider adjustments"),
)


def install(apps: Any, schema_editor: Any) -> None:
    append_only.run(schema_editor, TABLES, install=True)


def remove(apps: Any, schema_editor: Any) -> None:
    append_only.run(schema_editor, TABLES, install=False)


class Migration(migrations.Migration):
    dependencies = [
        ("remittances", "0002_hubpatterncache_hubdelivery"),
    ]

    operations = [
        migrations.RunPython(install, remove),
    ]
