"""Display filters for the note page and the worklists."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from django import template
from django.utils import timezone

register = template.Library()


@register.filter
def money(value: Decimal | float | int | str | None) -> str:
    """$1,234.56; empty for no value."""
    if value is None or value == "":
        return ""
    amount = Decimal(str(value)).quantize(Decimal("0.01"))
    sign = "-" if amount < 0 else ""
    return f"{sign}${abs(amount):,.2f}"


@register.filter
def minute_stamp(value: datetime | None) -> str:
    """A time stamp in the current time zone to the minute, "2026-12-06 14:05": what
    |date:"Y-m-d H:i" prints, without the general date formatter (a worklist page prints 50);
    empty for no value."""
    if value is None:
        return ""
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")
