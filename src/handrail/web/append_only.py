"""Append-only tables in the database itself: triggers that refuse every UPDATE and DELETE
of a row, whoever sends it (the app, a shell, a SQL client), on PostgreSQL (a plpgsql trigger
function) and SQLite (BEFORE UPDATE/DELETE triggers that RAISE(ABORT)). Both answer an
integrity error, so the ORM raises django.db.IntegrityError on either.

The audit table was made append-only this way first (audit migration 0004, which keeps its
own copy of the SQL, as migrations do); this builds the same statements for any table, for
the ledgers that must never change once written: a claim's state changes and the posted
remittances (a reversal is a new posting with negative amounts, never an edit). Removing a
trigger takes a schema change (DROP TRIGGER), which a role that only reads and writes rows
cannot make.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any


def statements(vendor: str, table: str, what: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(install, remove) statements for `table` on `vendor`; `what` names the rows in the
    refusal ("claim events")."""
    message = f"{what} are append-only: UPDATE and DELETE are refused"
    if vendor == "postgresql":
        install = (
            f"""
            CREATE OR REPLACE FUNCTION {table}_refuse_change() RETURNS trigger
            LANGUAGE plpgsql AS $$
            BEGIN
                RAISE EXCEPTION USING
                    MESSAGE = '{message} (' || TG_OP || ' on {table})',
                    ERRCODE = 'restrict_violation';
            END;
            $$
            """,
            f"""
            CREATE TRIGGER {table}_append_only
            BEFORE UPDATE OR DELETE ON {table}
            FOR EACH ROW EXECUTE FUNCTION {table}_refuse_change()
            """,
        )
        remove = (
            f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}",
            f"DROP FUNCTION IF EXISTS {table}_refuse_change()",
        )
        return install, remove
    if vendor == "sqlite":
        install = (
            f"""
            CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table}
            BEGIN SELECT RAISE(ABORT, '{message} (UPDATE on {table})'); END
            """,
            f"""
            CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table}
            BEGIN SELECT RAISE(ABORT, '{message} (DELETE on {table})'); END
            """,
        )
        remove = (
            f"DROP TRIGGER IF EXISTS {table}_no_update",
            f"DROP TRIGGER IF EXISTS {table}_no_delete",
        )
        return install, remove
    # The project supports these two databases; a third must not run without the guard.
    raise NotImplementedError(f"No append-only trigger for the {vendor} database.")


def run(schema_editor: Any, tables: Iterable[tuple[str, str]], *, install: bool) -> None:
    """Install (or remove) the triggers of `tables` ((table, what) pairs), for a migration's
    RunPython."""
    apply(schema_editor.execute, schema_editor.connection.vendor, tables, install=install)


def apply(
    execute: Callable[[str], object],
    vendor: str,
    tables: Iterable[tuple[str, str]],
    *,
    install: bool,
) -> None:
    """`run` with any statement runner (a cursor's execute: a test's teardown lifts the
    triggers for the flush that ends a transactional test)."""
    for table, what in tables:
        install_sql, remove_sql = statements(vendor, table, what)
        for statement in install_sql if install else remove_sql:
            execute(statement)
