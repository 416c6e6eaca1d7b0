"""One cold start in this fresh process (run by bench.cold_start, never imported by it).

    python -m bench.cold_child OUT floor
    python -m bench.cold_child OUT serve CODE_URI HANDLER EVENT_FILE
    python -m bench.cold_child OUT restore CODE_URI HANDLER EVENT_FILE

`floor` only creates a botocore DynamoDB client, the least any function here does. `serve` does
what Lambda does on a cold start: put the function's code first on the path, import its handler
module, and invoke it once with the sample event. Only the standard library is imported before
that, so the process pays for exactly what the function imports. `restore` is SnapStart's path:
the handler imported and the before-snapshot hooks run (the snapshot: not timed), then the
after-restore hooks (msglog.snapstart, as Lambda runs them) and the first invocation: `restore_ms`
is the two. OUT receives the in-process times (import, first invocation) and the answer's status code, as JSON.
"""

import json
import sys
import time
import uuid


class _Context:
    """The Lambda context attributes powertools reads."""

    def __init__(self, name: str, memory: str) -> None:
        self.function_name = name
        self.memory_limit_in_mb = int(memory)
        self.function_version = "$LATEST"
        self.invoked_function_arn = f"arn:aws:lambda:us-east-1:123456789012:function:{name}"
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{name}"
        self.log_stream_name = "bench"

    def get_remaining_time_in_millis(self) -> int:
        return 29_000


def floor() -> dict:
    import os

    start = time.perf_counter()
    import botocore.session

    botocore.session.get_session().create_client("dynamodb", region_name=os.environ["AWS_REGION"])
    return {"import_ms": (time.perf_counter() - start) * 1000, "invoke_ms": 0.0, "status": None}


def _cold(code_uri: str, handler: str, event_file: str, snapshot: bool) -> dict:
    """Import the handler module as Lambda does (its code first on the path), then invoke it once; with
    `snapshot`, SnapStart's path in between: the before-snapshot hooks (untimed, with the import), then
    the after-restore hooks, timed with the first invocation."""
    import importlib
    import os

    with open(event_file) as handle:
        event = json.load(handle)
    sys.path.insert(0, code_uri)
    module_name, _, function_name = handler.rpartition(".")
    start = time.perf_counter()
    module = importlib.import_module(module_name)  # with `snapshot`: Lambda runs this at publish
    if snapshot:
        from msglog import snapstart

        snapstart.snapshotting()  # and then the before-snapshot hooks
    imported = time.perf_counter()
    if snapshot:
        snapstart.restored()
    context = _Context(os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "bench"),
                       os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "512"))
    answer = getattr(module, function_name)(event, context)
    done = time.perf_counter()
    status = answer.get("statusCode") if isinstance(answer, dict) else None
    first = (done - imported) * 1000
    if snapshot:
        return {"import_ms": (imported - start) * 1000, "invoke_ms": 0.0, "restore_ms": first, "status": status}
    return {"import_ms": (imported - start) * 1000, "invoke_ms": first, "status": status}


def main(argv: list[str]) -> None:
    out, mode, *args = argv
    result = floor() if mode == "floor" else _cold(*args, snapshot=mode == "restore")
    with open(out, "w") as handle:
        json.dump(result, handle)


if __name__ == "__main__":
    main(sys.argv[1:])
