"""Recording sent messages and their recipients (right: messages:write)."""

from typing import Annotated, Any

from aws_lambda_powertools.event_handler.openapi.params import Body, Header, Path

from msglog import messages
from msglog.http import caller, create_app, entrypoint
from msglog.schemas import MessageIn, RecipientsIn

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


handler = entrypoint(app)
