"""The audit log: append-only in the database (UPDATE and DELETE refused by triggers on
SQLite and PostgreSQL, through raw SQL and through the ORM)."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, connection, transaction

from handrail.web.audit.models import AuditAction, AuditEvent
from handrail.web.audit.services import audit_record
from tests.web.conftest import World


def _event(world: World) -> AuditEvent:
    return audit_record(
        user=world.pt, action=AuditAction.VIEW, obj=world.patient, patient=world.patient
    )


def _refused(sql: str, params: list[object]) -> str:
    """Run `sql` and return the database's refusal (in a savepoint: PostgreSQL aborts the
    transaction on an error)."""
    with (
        pytest.raises(IntegrityError) as refused,
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(sql, params)
    return str(refused.value)


@pytest.mark.django_db
class AppendOnlyTests:
    def test_it_refuses_an_update_in_sql(self, world: World) -> None:
        event = _event(world)
        message = _refused(
            "UPDATE audit_auditevent SET detail = %s WHERE id = %s", ["x", event.pk]
        )
        assert "append-only" in message and "UPDATE" in message
        event.refresh_from_db()
        assert event.detail == ""

    def test_it_refuses_a_delete_in_sql(self, world: World) -> None:
        event = _event(world)
        message = _refused("DELETE FROM audit_auditevent WHERE id = %s", [event.pk])
        assert "append-only" in message and "DELETE" in message
        assert AuditEvent.objects.filter(pk=event.pk).exists()

    def test_it_refuses_a_delete_of_every_row_in_sql(self, world: World) -> None:
        _event(world)
        count = AuditEvent.objects.count()
        assert count > 1  # the world's own creations are audited too
        _refused("DELETE FROM audit_auditevent", [])
        assert AuditEvent.objects.count() == count

    def test_it_refuses_an_orm_save_of_a_stored_event(self, world: World) -> None:
        event = _event(world)
        event.detail = "rewritten"
        with pytest.raises(IntegrityError), transaction.atomic():
            event.save()
        assert AuditEvent.objects.get(pk=event.pk).detail == ""

    def test_it_refuses_an_orm_queryset_update(self, world: World) -> None:
        event = _event(world)
        with pytest.raises(IntegrityError), transaction.atomic():
            AuditEvent.objects.filter(pk=event.pk).update(user=world.admin)
        assert AuditEvent.objects.get(pk=event.pk).user_id == world.pt.pk

    def test_it_refuses_an_orm_delete(self, world: World) -> None:
        event = _event(world)
        with pytest.raises(IntegrityError), transaction.atomic():
            event.delete()
        with pytest.raises(IntegrityError), transaction.atomic():
            AuditEvent.objects.all().delete()
        assert AuditEvent.objects.filter(pk=event.pk).exists()

    def test_it_still_appends(self, world: World) -> None:
        before = AuditEvent.objects.count()
        _event(world)
        _event(world)
        assert AuditEvent.objects.count() == before + 2


@pytest.mark.django_db(transaction=True)
class AppendOnlyCommittedTests:
    def test_it_refuses_a_delete_of_a_committed_event(self, world: World) -> None:
        """Outside a test transaction (autocommit, as in production) too."""
        event = _event(world)
        with pytest.raises(IntegrityError):
            AuditEvent.objects.filter(pk=event.pk).delete()
        with pytest.raises(IntegrityError):
            AuditEvent.objects.filter(pk=event.pk).update(detail="x")
        assert AuditEvent.objects.get(pk=event.pk).detail == ""
