"""GET /v1/health (liveness) and GET /v1/openapi.json (the API's description): no authorisation,
no AWS calls."""

from functools import cache
from importlib.resources import files
from typing import Any

from aws_lambda_powertools.event_handler import Response

from msglog.http import create_app, entrypoint

app = create_app()


@app.get("/v1/health")
def health() -> dict[str, str]:
    return {"status": "ok"}


@cache
def _document() -> str:
    return files("msglog").joinpath("openapi.json").read_text()  # written by `make openapi`


@app.get("/v1/openapi.json")
def openapi() -> Response[Any]:
    return Response(status_code=200, content_type="application/json", body=_document())


handler = entrypoint(app, api_log=False)
