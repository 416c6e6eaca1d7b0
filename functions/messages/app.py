"""Recording sent messages and their recipients (right: messages:write); refreshing one from its provider."""

from typing import Annotated, Any

from aws_lambda_powertools.event_handler.openapi.params import Body, Header, Path

from msglog import lifecycle, messages
from msglog.http import caller, create_app, entrypoint
from msglog.schemas import MessageChange, MessageIn, RecipientsIn

app = create_app()


@app.post("/v1/messages")
def record_message(
    message: Annotated[MessageIn, Body()],
    idempotency_key: Annotated[str | None, Header(alias="idempotency-key", max_length=255)] = None,
) -> tuple[dict[str, Any], int]:
    who = caller(app)
    who.require("messages:write")
    message_id, created = messages.record(who, message, idempotency_key)
    return {"message_id": message_id}, 201 if created else 200


@app.post("/v1/messages/<id>/recipients")
def add_recipients(id: Annotated[str, Path()], body: Annotated[RecipientsIn, Body()]) -> dict[str, Any]:  # noqa: A002
    who = caller(app)
    who.require("messages:write")
    return {"message_id": id, **messages.add_recipients(who, id, body.recipients)}


@app.patch("/v1/messages/<id>")
def change_message(
    id: Annotated[str, Path()],  # noqa: A002
    body: Annotated[MessageChange, Body()],
) -> tuple[dict[str, Any], int]:
    """A scheduled message goes out or is canceled; 202: canceling its recipients goes on at a repeat."""
    who = caller(app)
    who.require("messages:write")
    answer, complete = lifecycle.change(who, id, body)
    return answer, 200 if complete else 202


@app.post("/v1/messages/<id>/refresh")
def refresh_message(id: Annotated[str, Path()]) -> dict[str, Any]:  # noqa: A002
    """Ask the message's provider what it knows of its recipients (right: any view that lists the message)."""
    from msglog import refresh  # ingestion's code, only for this route: recording's cold start stays without it

    return refresh.refresh(caller(app), id)


handler = entrypoint(app)
