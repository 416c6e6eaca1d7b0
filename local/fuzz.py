"""`make fuzz`: schemathesis against the local stack, from the served OpenAPI document.

Starts `make run`'s stack (no demo data) on free ports, runs schemathesis (its own virtualenv,
`.venvs/schemathesis`) with an admin token of a fresh tenant, stops the stack, and exits with
schemathesis's status. The checks: no 5xx, and every answer — status, content type, headers,
body — is one the document describes. Not run: positive_data_acceptance and
negative_data_rejection, which expect the JSON schema alone to decide validity (a signed
cursor, `from` ≤ `to`, `at` required with `id` are not expressible there; API Gateway answers
414 to an over-long URL), and unsupported_method, which is API Gateway's (it answers 404, not
405, to a method no route has).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from local.apigw import mint_token

ROOT = Path(__file__).resolve().parent.parent
CHECKS = ("not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,"
          "response_schema_conformance,ignored_auth,use_after_free,ensure_resource_availability")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait(url: str, stack: subprocess.Popen[bytes], seconds: float = 90) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if stack.poll() is not None:
            raise SystemExit("the local stack stopped before it answered")
        try:
            with urllib.request.urlopen(url, timeout=2):  # noqa: S310 - our own local stack
                return
        except OSError:
            time.sleep(0.5)
    raise SystemExit(f"no answer from {url} within {seconds} s")


def main(st: str) -> int:
    port, moto_port = _free_port(), _free_port()
    env = {**os.environ, "PORT": str(port), "MOTO_PORT": str(moto_port), "SEED": "0"}
    log = (ROOT / ".local").joinpath(f"fuzz-{port}.log")
    log.parent.mkdir(exist_ok=True)
    with log.open("wb") as out:
        stack = subprocess.Popen([sys.executable, "-m", "local.stack"], env=env, stdout=out, stderr=out, cwd=ROOT)
    try:
        base = f"http://127.0.0.1:{port}"
        _wait(f"{base}/v1/health", stack)
        token = mint_token({"sub": "fuzzer", "name": "Schemathesis", "tenant_id": "fuzz", "rights": ["admin"],
                            "org_units": ["*"]})
        command = [st, "run", f"{base}/v1/openapi.json", "--header", f"Authorization: Bearer {token}",
                   "--checks", CHECKS, "--max-examples", os.environ.get("FUZZ_EXAMPLES", "10"), "--workers", "1",
                   "--request-timeout", "60",  # moto's Query walks the whole table: slow, not wrong
                   "--seed", os.environ.get("FUZZ_SEED", "20261123"), "--no-color", "--max-failures", "20"]
        return subprocess.call(command, cwd=ROOT / ".local")
    finally:
        stack.terminate()
        stack.wait(timeout=30)


if __name__ == "__main__":
    sys.exit(main(str(Path(sys.argv[1]).resolve()) if len(sys.argv) > 1 else str(ROOT / ".venvs/schemathesis/bin/st")))
