"""The stored yearly therapy threshold accrual (ThresholdAccrual), kept by the database.

Per patient, clinic, calendar year and group (PT+SLP combined, OT separate: SSA §1833(g),
BBA 2018 §50202), the allowed amounts in cents and the count of the signed visits with an
allowed amount. Triggers keep it in the transaction of every write that changes what it
sums, whoever sends the write (a sign under the patient's row lock, a correction in a
shell, a bulk load): a visit inserted, deleted or updated in its status, allowed amount,
date, case or clinic, and a case moved to another patient or threshold group. Amounts are
added as whole cents (integers), so SQLite's floating-point decimals never accumulate an
error. The rows are then filled from the visits already signed, after the triggers exist
and in the same transaction (on PostgreSQL CREATE TRIGGER holds off writes to the visits
until it commits, so no sign falls between the two).
"""

from __future__ import annotations

from typing import Any

import django.db.models.deletion
from django.db import migrations, models



TABLE = "visits_thresholdaccrual"
KEY = "(patient_id, year, therapy_group, clinic_id)"
COLUMNS = "(clinic_id, patient_id, year, therapy_group, allowed_cents, visits)"


def _group(discipline: str) -> str:
    return f"CASE WHEN {discipline} = 'OT' THEN 'OT' ELSE 'PT/SLP' END"


# SQLite: dates are stored as 'YYYY-MM-DD'; decimals as floating point, so each amount is
# rounded to whole cents before it is added.
def _sqlite_year(row: str) -> str:
    return f"CAST(substr({row}.date, 1, 4) AS INTEGER)"


def _sqlite_cents(row: str) -> str:
    return f"CAST(ROUND({row}.allowed_amount * 100) AS INTEGER)"


def _sqlite_counted(row: str) -> str:
    return f"{row}.status = 'signed' AND {row}.allowed_amount IS NOT NULL"


def _sqlite_add(row: str) -> str:
    return f"""
        INSERT INTO {TABLE} {COLUMNS}
        SELECT {row}.clinic_id, c.patient_id, {_sqlite_year(row)}, {_group("c.discipline")},
            {_sqlite_cents(row)}, 1
        FROM care_case c WHERE c.id = {row}.case_id AND {_sqlite_counted(row)}
        ON CONFLICT {KEY} DO UPDATE SET
            allowed_cents = allowed_cents + excluded.allowed_cents,
            visits = visits + excluded.visits;
    """


def _sqlite_subtract(row: str) -> str:
    return f"""
        UPDATE {TABLE} SET
            allowed_cents = allowed_cents - {_sqlite_cents(row)}, visits = visits - 1
        WHERE {_sqlite_counted(row)} AND clinic_id = {row}.clinic_id
            AND year = {_sqlite_year(row)}
            AND (patient_id, therapy_group) =
                (SELECT c.patient_id, {_group("c.discipline")} FROM care_case c
                 WHERE c.id = {row}.case_id);
        DELETE FROM {TABLE} WHERE visits = 0 AND clinic_id = {row}.clinic_id
            AND patient_id = (SELECT c.patient_id FROM care_case c WHERE c.id = {row}.case_id);
    """


def _sqlite_case_visits(extra: str = "") -> str:
    return (
        f"FROM visits_visit v WHERE v.case_id = NEW.id AND {_sqlite_counted('v')} {extra}"
    )


SQLITE_INSTALL = (
    f"""
    CREATE TRIGGER visits_visit_accrual_insert AFTER INSERT ON visits_visit
    WHEN {_sqlite_counted("NEW")}
    BEGIN {_sqlite_add("NEW")} END
    """,
    f"""
    CREATE TRIGGER visits_visit_accrual_update
    AFTER UPDATE OF status, allowed_amount, date, case_id, clinic_id ON visits_visit
    WHEN ({_sqlite_counted("OLD")}) OR ({_sqlite_counted("NEW")})
    BEGIN {_sqlite_subtract("OLD")} {_sqlite_add("NEW")} END
    """,
    f"""
    CREATE TRIGGER visits_visit_accrual_delete AFTER DELETE ON visits_visit
    WHEN {_sqlite_counted("OLD")}
    BEGIN {_sqlite_subtract("OLD")} END
    """,
    # A case moved to another patient or group takes its signed visits' sums along.
    f"""
    CREATE TRIGGER care_case_accrual_update AFTER UPDATE OF patient_id, discipline ON care_case
    WHEN OLD.patient_id <> NEW.patient_id OR (OLD.discipline = 'OT') <> (NEW.discipline = 'OT')
    BEGIN
        UPDATE {TABLE} SET
            allowed_cents = allowed_cents - (
                SELECT SUM({_sqlite_cents("v")}) {_sqlite_case_visits(
                    f"AND v.clinic_id = {TABLE}.clinic_id AND {_sqlite_year('v')} = {TABLE}.year"
                )}),
            visits = visits - (
                SELECT COUNT(*) {_sqlite_case_visits(
                    f"AND v.clinic_id = {TABLE}.clinic_id AND {_sqlite_year('v')} = {TABLE}.year"
                )})
        WHERE patient_id = OLD.patient_id AND therapy_group = {_group("OLD.discipline")}
            AND EXISTS (SELECT 1 {_sqlite_case_visits(
                f"AND v.clinic_id = {TABLE}.clinic_id AND {_sqlite_year('v')} = {TABLE}.year"
            )});
        DELETE FROM {TABLE} WHERE visits = 0 AND patient_id = OLD.patient_id;
        INSERT INTO {TABLE} {COLUMNS}
        SELECT v.clinic_id, NEW.patient_id, {_sqlite_year("v")}, {_group("NEW.discipline")},
            SUM({_sqlite_cents("v")}), COUNT(*)
        {_sqlite_case_visits()}
        GROUP BY v.clinic_id, {_sqlite_year("v")}
        ON CONFLICT {KEY} DO UPDATE SET
            allowed_cents = allowed_cents + excluded.allowed_cents,
            visits = visits + excluded.visits;
    END
    """,
)
SQLITE_BACKFILL = f"""
    INSERT INTO {TABLE} {COLUMNS}
    SELECT v.clinic_id, c.patient_id, {_sqlite_year("v")}, {_group("c.discipline")},
        SUM({_sqlite_cents("v")}), COUNT(*)
    FROM visits_visit v JOIN care_case c ON c.id = v.case_id
    WHERE {_sqlite_counted("v")}
    GROUP BY v.clinic_id, c.patient_id, {_sqlite_year("v")}, {_group("c.discipline")}
"""
SQLITE_REMOVE = tuple(
    f"DROP TRIGGER IF EXISTS {name}"
    for name in (
        "visits_visit_accrual_insert",
        "visits_visit_accrual_update",
        "visits_visit_accrual_delete",
        "care_case_accrual_update",
    )
)

# PostgreSQL: one function adds (or, with negative figures, takes away) a group's sums;
# the triggers call it with a visit's figures or a moved case's.
POSTGRESQL_INSTALL = (
    f"""
    CREATE FUNCTION visits_threshold_accrual_add(
        p_clinic bigint, p_patient bigint, p_year integer, p_group varchar,
        p_cents bigint, p_visits integer
    ) RETURNS void LANGUAGE plpgsql AS $$
    BEGIN
        IF p_visits > 0 THEN
            INSERT INTO {TABLE} AS a {COLUMNS}
            VALUES (p_clinic, p_patient, p_year, p_group, p_cents, p_visits)
            ON CONFLICT {KEY} DO UPDATE SET
                allowed_cents = a.allowed_cents + EXCLUDED.allowed_cents,
                visits = a.visits + EXCLUDED.visits;
        ELSE
            UPDATE {TABLE} SET
                allowed_cents = allowed_cents + p_cents, visits = visits + p_visits
            WHERE patient_id = p_patient AND year = p_year AND therapy_group = p_group
                AND clinic_id = p_clinic;
            DELETE FROM {TABLE}
            WHERE patient_id = p_patient AND year = p_year AND therapy_group = p_group
                AND clinic_id = p_clinic AND visits <= 0;
        END IF;
    END
    $$
    """,
    f"""
    CREATE FUNCTION visits_visit_threshold_accrual() RETURNS trigger
    LANGUAGE plpgsql AS $$
    DECLARE
        c_patient bigint;
        c_discipline varchar;
    BEGIN
        IF TG_OP <> 'INSERT' AND OLD.status = 'signed' AND OLD.allowed_amount IS NOT NULL THEN
            SELECT patient_id, discipline INTO c_patient, c_discipline
            FROM care_case WHERE id = OLD.case_id;
            IF FOUND THEN
                PERFORM visits_threshold_accrual_add(
                    OLD.clinic_id, c_patient, EXTRACT(YEAR FROM OLD.date)::integer,
                    {_group("c_discipline")}, -(OLD.allowed_amount * 100)::bigint, -1);
            END IF;
        END IF;
        IF TG_OP <> 'DELETE' AND NEW.status = 'signed' AND NEW.allowed_amount IS NOT NULL THEN
            SELECT patient_id, discipline INTO c_patient, c_discipline
            FROM care_case WHERE id = NEW.case_id;
            PERFORM visits_threshold_accrual_add(
                NEW.clinic_id, c_patient, EXTRACT(YEAR FROM NEW.date)::integer,
                {_group("c_discipline")}, (NEW.allowed_amount * 100)::bigint, 1);
        END IF;
        RETURN NULL;
    END
    $$
    """,
    """
    CREATE TRIGGER visits_visit_accrual_insert AFTER INSERT ON visits_visit
    FOR EACH ROW WHEN (NEW.status = 'signed')
    EXECUTE FUNCTION visits_visit_threshold_accrual()
    """,
    """
    CREATE TRIGGER visits_visit_accrual_update
    AFTER UPDATE OF status, allowed_amount, date, case_id, clinic_id ON visits_visit
    FOR EACH ROW WHEN (OLD.status = 'signed' OR NEW.status = 'signed')
    EXECUTE FUNCTION visits_visit_threshold_accrual()
    """,
    """
    CREATE TRIGGER visits_visit_accrual_delete AFTER DELETE ON visits_visit
    FOR EACH ROW WHEN (OLD.status = 'signed')
    EXECUTE FUNCTION visits_visit_threshold_accrual()
    """,
    f"""
    CREATE FUNCTION care_case_threshold_accrual() RETURNS trigger
    LANGUAGE plpgsql AS $$
    DECLARE
        r record;
    BEGIN
        FOR r IN
            SELECT v.clinic_id, EXTRACT(YEAR FROM v.date)::integer AS year,
                SUM((v.allowed_amount * 100)::bigint)::bigint AS cents,
                COUNT(*)::integer AS visits
            FROM visits_visit v
            WHERE v.case_id = NEW.id AND v.status = 'signed' AND v.allowed_amount IS NOT NULL
            GROUP BY 1, 2
        LOOP
            PERFORM visits_threshold_accrual_add(
                r.clinic_id, OLD.patient_id, r.year, {_group("OLD.discipline")},
                -r.cents, -r.visits);
            PERFORM visits_threshold_accrual_add(
                r.clinic_id, NEW.patient_id, r.year, {_group("NEW.discipline")},
                r.cents, r.visits);
        END LOOP;
        RETURN NULL;
    END
    $$
    """,
    """
    CREATE TRIGGER care_case_accrual_update AFTER UPDATE OF patient_id, discipline ON care_case
    FOR EACH ROW WHEN (
        OLD.patient_id IS DISTINCT FROM NEW.patient_id
        OR (OLD.discipline = 'OT') IS DISTINCT FROM (NEW.discipline = 'OT')
    )
    EXECUTE FUNCTION care_case_threshold_accrual()
    """,
)
POSTGRESQL_BACKFILL = f"""
    INSERT INTO {TABLE} {COLUMNS}
    SELECT v.clinic_id, c.patient_id, EXTRACT(YEAR FROM v.date)::integer,
        {_group("c.discipline")}, SUM((v.allowed_amount * 100)::bigint), COUNT(*)
    FROM visits_visit v JOIN care_case c ON c.id = v.case_id
    WHERE v.status = 'signed' AND v.allowed_amount IS NOT NULL
    GROUP BY 1, 2, 3, 4
"""
POSTGRESQL_REMOVE = (
    "DROP TRIGGER IF EXISTS care_case_accrual_update ON care_case",
    "DROP TRIGGER IF EXISTS visits_visit_accrual_insert ON visits_visit",
    "DROP TRIGGER IF EXISTS visits_visit_accrual_update ON visits_visit",
    "DROP TRIGGER IF EXISTS visits_visit_accrual_delete ON visits_visit",
    "DROP FUNCTION IF EXISTS care_case_threshold_accrual()",
    "DROP FUNCTION IF EXISTS visits_visit_threshold_accrual()",
    "DROP FUNCTION IF EXISTS visits_threshold_accrual_add("
    "bigint, bigint, integer, varchar, bigint, integer)",
)
STATEMENTS = {
    "postgresql": (POSTGRESQL_INSTALL, POSTGRESQL_BACKFILL, POSTGRESQL_REMOVE),
    "sqlite": (SQLITE_INSTALL, SQLITE_BACKFILL, SQLITE_REMOVE),
}


def install(apps: Any, schema_editor: Any) -> None:
    vendor = schema_editor.connection.vendor
    if vendor not in STATEMENTS:
        # The project supports these two databases; a third would have no accrual kept.
        raise NotImplementedError(f"No threshold accrual triggers for the {vendor} database.")
    triggers, backfill, _remove = STATEMENTS[vendor]
    for statement in triggers:
        schema_editor.execute(statement, params=None)
    schema_editor.execute(backfill, params=None)


def remove(apps: Any, schema_editor: Any) -> None:
    for statement in STATEMENTS[schema_editor.connection.vendor][2]:
        schema_editor.execute(statement, params=None)


class Migration(migrations.Migration):

    dependencies = [
        ('clinic', '0005_patient_list_order'),
        ('visits', '0008_drop_case_date_index'),
    ]

    operations = [
        migrations.CreateModel(
            name='ThresholdAccrual',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('year', models.PositiveSmallIntegerField()),
                ('therapy_group', models.CharField(choices=[('PT/SLP', 'PT and SLP'), ('OT', 'OT')], max_length=6)),
                ('allowed_cents', models.BigIntegerField()),
                ('visits', models.PositiveIntegerField()),
                ('clinic', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='clinic.clinic')),
                ('patient', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='threshold_accruals', to='clinic.patient')),
            ],
            options={
                'indexes': [models.Index(fields=['clinic', 'year', 'allowed_cents'], name='threshold_accrual_clinic')],
                'constraints': [models.UniqueConstraint(fields=('patient', 'year', 'therapy_group', 'clinic'), name='threshold_accrual_one_per_group')],
            },
        ),
        migrations.RunPython(install, remove),
    ]
