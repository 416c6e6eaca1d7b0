"""GET /v1/health: liveness, no authorisation and no AWS calls."""

from msglog.http import create_app, entrypoint

app = create_app()


@app.get("/v1/health")
def health() -> dict[str, str]:
    return {"status": "ok"}


handler = entrypoint(app)
