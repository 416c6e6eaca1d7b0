"""`make fuzz`: schemathesis against the local stack, from the served OpenAPI document.

Starts `make run`'s stack (no demo data) on free ports, runs schemathesis (its own virtualenv,
`.venvs/schemathesis`) with an admin token of a fresh tenant, stops the stack, and exits with
schemathesis's status. The checks: no 5xx, and every answer — status, content type, headers,
body — is one the document describes. Not run: positive_data_acceptance and
negative_data_rejection, which expect the JSON schema alone to decide validity (a signed
cursor, `from` ≤ `to`, `at` required with `id` are not expressible there; API Gateway answers
414 to an over-long URL), and unsupported_method, which is API Gateway's (it answers 404, not
405, to a method no route has).

`make fuzz-long` (`--long`): the same checks, FUZZ_EXAMPLES (default 100) examples per operation,
authenticated in turn as each of several rights sets (admin; read-only rights; messages:write;
a right no route needs), two schemathesis workers; it prints the requests sent in all and fails
under FUZZ_LONG_MIN_REQUESTS (10,000).
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from local.apigw import mint_token

ROOT = Path(__file__).resolve().parent.parent
READ_ONLY = ["logs:sent", "logs:recipient", "logs:recipient:any-sender", "people:all", "logs:recipient-fields",
             "logs:provider", "logs:activity", "logs:audit", "logs:api", "logs:panel", "logs:logins",
             "logs:ingestion", "suppressions:read", "stats:read"]
RIGHTS_SETS = {"admin": ["admin"], "read-only": READ_ONLY, "messages-write": ["messages:write"],
               "no-needed-right": ["logs:push"]}
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


def _schemathesis(st: str, base: str, rights: list[str], examples: str, workers: str) -> tuple[int, int]:
    """One run with a token of `rights`; (its exit status, the test cases it generated)."""
    token = mint_token({"sub": "fuzzer", "name": "Schemathesis", "tenant_id": "fuzz", "rights": rights,
                        "org_units": ["*"]})
    command = [st, "run", f"{base}/v1/openapi.json", "--header", f"Authorization: Bearer {token}",
               "--checks", CHECKS, "--max-examples", examples, "--workers", workers,
               "--request-timeout", "60",  # moto's Query walks the whole table: slow, not wrong
               "--seed", os.environ.get("FUZZ_SEED", "20261123"), "--no-color", "--max-failures", "20"]
    run = subprocess.Popen(command, cwd=ROOT / ".local", stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    generated = 0
    assert run.stdout is not None  # stdout=PIPE
    for line in run.stdout:
        print(line, end="", flush=True)
        if found := re.match(r"\s+(\d+) generated", line):  # under "Test cases:" in the summary
            generated = int(found.group(1))
    return run.wait(), generated


def main(st: str, long: bool = False) -> int:
    port, moto_port = _free_port(), _free_port()
    env = {**os.environ, "PORT": str(port), "MOTO_PORT": str(moto_port), "SEED": "0"}
    log = (ROOT / ".local").joinpath(f"fuzz-{port}.log")
    log.parent.mkdir(exist_ok=True)
    with log.open("wb") as out:
        stack = subprocess.Popen([sys.executable, "-m", "local.stack"], env=env, stdout=out, stderr=out, cwd=ROOT)
    try:
        base = f"http://127.0.0.1:{port}"
        _wait(f"{base}/v1/health", stack)
        if not long:
            # Two workers: while one waits on a function's process the other's request runs (2 cores)
            return _schemathesis(st, base, ["admin"], os.environ.get("FUZZ_EXAMPLES", "10"), "2")[0]
        examples, status, total = os.environ.get("FUZZ_EXAMPLES", "100"), 0, 0
        for name, rights in RIGHTS_SETS.items():
            print(f"\n=== fuzz-long as {name}: {', '.join(rights)}", flush=True)
            code, generated = _schemathesis(st, base, rights, examples, "2")
            status, total = status or code, total + generated
        minimum = int(os.environ.get("FUZZ_LONG_MIN_REQUESTS", "10000"))
        print(f"\nfuzz-long: {total} test cases in all ({minimum} at least), schemathesis status {status}", flush=True)
        return status or (1 if total < minimum else 0)
    finally:
        stack.terminate()
        stack.wait(timeout=30)


if __name__ == "__main__":
    arguments = [a for a in sys.argv[1:] if a != "--long"]
    st = str(Path(arguments[0]).resolve()) if arguments else str(ROOT / ".venvs/schemathesis/bin/st")
    sys.exit(main(st, long="--long" in sys.argv[1:]))
