"""Email bodies, rendered when the message is sent (not when it is queued).

The outbox stores only what a body is made from (`Message.context`: ids and dates), so a
patient's link token is never written into the outbox, and the link in an email that waited
for a mail server is the one valid when it finally goes. Each kind of message has a renderer,
registered by the app that owns the kind (the patient portal registers the program and
reminder emails). Bodies carry a link and no diagnosis or program content: an email may be
read by anyone who sees the patient's inbox.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from handrail.web.messaging.models import Message


@dataclass(frozen=True)
class RenderedEmail:
    text: str  # the body above the footer (the footer with the unsubscribe link is added)


class RenderError(Exception):
    """The message cannot be rendered (its program or link is gone): it is failed, not
    retried, with this text as the reason."""


Renderer = Callable[[Message], RenderedEmail]

_RENDERERS: dict[str, Renderer] = {}


def register_renderer(kind: str, renderer: Renderer) -> None:
    _RENDERERS[kind] = renderer


def renderer_for(kind: str) -> Renderer | None:
    return _RENDERERS.get(kind)


def render_body(message: Message, *, unsubscribe_url: str) -> str:
    renderer = renderer_for(message.kind)
    if renderer is None:
        raise RenderError(f"no renderer for messages of kind {message.kind!r}")
    body = renderer(message).text.rstrip()
    footer = (
        "You get these emails because you agreed to them at "
        f"{message.clinic.name}. To stop them, open: {unsubscribe_url}"
    )
    return f"{body}\n\n--\n{footer}\n"
