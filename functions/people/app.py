"""Erasure of a person: DELETE /v1/people/{person_id} (right: admin, over all org units)."""

from typing import Annotated, Any
from urllib.parse import unquote

from aws_lambda_powertools.event_handler.openapi.params import Path

from msglog import erasure
from msglog.http import caller, create_app, entrypoint, metrics

app = create_app()
PersonId = Annotated[str, Path(max_length=128, description="the person id the messages were recorded with")]


@app.delete("/v1/people/<person_id>")
def erase_person(person_id: PersonId) -> tuple[dict[str, Any], int]:
    """Erases the person's addresses, names, merge values and the bodies only they received; statuses,
    events and counts stay, anonymous. 202: stopped within its time budget, repeat to carry on."""
    result = erasure.erase(caller(app), unquote(person_id), time_left=app.lambda_context.get_remaining_time_in_millis)
    metrics.add_metric(name="DeliveriesErased", unit="Count", value=result["erased"])
    return result, 200 if result["complete"] else 202


handler = entrypoint(app)
