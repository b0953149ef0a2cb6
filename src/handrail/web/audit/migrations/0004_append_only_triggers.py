"""Make the audit table append-only in the database itself: a trigger refuses every UPDATE
and DELETE of an audit row, whoever sends it (the app, a shell, a SQL client), on PostgreSQL
(a plpgsql trigger function) and SQLite (BEFORE UPDATE/DELETE triggers that RAISE(ABORT)).
Both answer an integrity error, so the ORM raises django.db.IntegrityError on either.

Removing the triggers takes a schema change (DROP TRIGGER), which a database role that can
only read and write rows cannot do (HIPAA §164.312(b) audit controls, §164.312(c)(1)
integrity).
"""

from __future__ import annotations

from typing import Any

from django.db import migrations

TABLE = "audit_auditevent"
MESSAGE = "audit events are append-only: UPDATE and DELETE are refused"

POSTGRESQL_INSTALL = (
    f"""
    CREATE OR REPLACE FUNCTION {TABLE}_refuse_change() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION USING
            MESSAGE = '{MESSAGE} (' || TG_OP || ' on {TABLE})',
            ERRCODE = 'restrict_violation';
    END;
    $$
    """,
    f"""
    CREATE TRIGGER {TABLE}_append_only
    BEFORE UPDATE OR DELETE ON {TABLE}
    FOR EACH ROW EXECUTE FUNCTION {TABLE}_refuse_change()
    """,
)
POSTGRESQL_REMOVE = (
    f"DROP TRIGGER IF EXISTS {TABLE}_append_only ON {TABLE}",
    f"DROP FUNCTION IF EXISTS {TABLE}_refuse_change()",
)
SQLITE_INSTALL = (
    f"""
    CREATE TRIGGER {TABLE}_no_update BEFORE UPDATE ON {TABLE}
    BEGIN SELECT RAISE(ABORT, '{MESSAGE} (UPDATE on {TABLE})'); END
    """,
    f"""
    CREATE TRIGGER {TABLE}_no_delete BEFORE DELETE ON {TABLE}
    BEGIN SELECT RAISE(ABORT, '{MESSAGE} (DELETE on {TABLE})'); END
    """,
)
SQLITE_REMOVE = (
    f"DROP TRIGGER IF EXISTS {TABLE}_no_update",
    f"DROP TRIGGER IF EXISTS {TABLE}_no_delete",
)
STATEMENTS = {
    "postgresql": (POSTGRESQL_INSTALL, POSTGRESQL_REMOVE),
    "sqlite": (SQLITE_INSTALL, SQLITE_REMOVE),
}


def _run(schema_editor: Any, install: bool) -> None:
    vendor = schema_editor.connection.vendor
    if vendor not in STATEMENTS:
        # The project supports these two databases; a third must not run without the guard.
        raise NotImplementedError(f"No append-only audit trigger for the {vendor} database.")
    for statement in STATEMENTS[vendor][0 if install else 1]:
        schema_editor.execute(statement)


def install(apps: Any, schema_editor: Any) -> None:
    _run(schema_editor, install=True)


def remove(apps: Any, schema_editor: Any) -> None:
    _run(schema_editor, install=False)


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0003_audit_delete_action"),
    ]

    operations = [
        migrations.RunPython(install, remove),
    ]
