"""Background tasks of the remittances app: the denial-pattern hub's sending and fetching
(handrail.web.remittances.hub). Thin: each calls a service."""

from __future__ import annotations

from django_tasks import task

from handrail.web.remittances.hub import hub_delivery_send, hub_sync


@task(queue_name="default")
def send_hub_report(delivery_id: int) -> str:
    return hub_delivery_send(delivery_id=delivery_id)


@task(queue_name="default")
def sync_pattern_hub() -> dict[str, int]:
    return hub_sync()
