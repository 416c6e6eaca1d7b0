"""The people directory: GET /v1/people?q= (logs:recipient finds students, people:all everyone); erasure of a
person: DELETE /v1/people/{person_id} (right: admin, over all org units)."""

from typing import Annotated, Any
from urllib.parse import unquote

from aws_lambda_powertools.event_handler.openapi.params import Path, Query

from msglog import erasure, people
from msglog.http import Cursor, Limit, caller, create_app, entrypoint, metrics
from msglog.listing import ListQuery

app = create_app()
PersonId = Annotated[str, Path(max_length=128, description="the person id the messages were recorded with")]
PeopleSearch = Annotated[str | None, Query(max_length=people.TOKEN_MAX, description=(
    "the start of any word of the name, of an address, or of the id; case and accents do not matter; several "
    "words: each must start one. None: everyone"))]


@app.get("/v1/people")
def people_directory(q: PeopleSearch = None, limit: Limit = 50, cursor: Cursor = None) -> dict[str, Any]:
    """The people recorded as recipients: person id, name, role, family id, addresses, org units and the time of
    their latest message; a row opens the recipient log as `person:<id>` (or `family:<id>`)."""
    return people.search(caller(app), ListQuery(limit=limit, cursor=cursor, q=q or None))


@app.delete("/v1/people/<person_id>")
def erase_person(person_id: PersonId) -> tuple[dict[str, Any], int]:
    """Erases the person's addresses, names, merge values and the bodies only they received, and their entry in
    the people directory; statuses, events and counts stay, anonymous. 202: stopped within its time budget,
    repeat to carry on."""
    result = erasure.erase(caller(app), unquote(person_id), time_left=app.lambda_context.get_remaining_time_in_millis)
    metrics.add_metric(name="DeliveriesErased", unit="Count", value=result["erased"])
    return result, 200 if result["complete"] else 202


handler = entrypoint(app)
