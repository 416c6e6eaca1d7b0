"""A function for the execution environments' tests: it counts its invocations in its module's
state, reports its process and environment, can wait at a gate until others arrive, or crash."""

import os
import time
from pathlib import Path

INVOCATIONS = 0


def handler(event, context):
    global INVOCATIONS
    INVOCATIONS += 1
    if gate := event.get("gate"):  # arrive, then wait until `parties` invocations have arrived
        Path(gate, f"{os.getpid()}-{INVOCATIONS}").touch()
        deadline = time.monotonic() + 60
        while len(os.listdir(gate)) < event["parties"]:
            if time.monotonic() > deadline:
                raise TimeoutError("the other invocations never arrived: they did not run at the same time")
            time.sleep(0.01)
    if event.get("crash"):
        os._exit(1)
    return {"pid": os.getpid(), "invocations": INVOCATIONS, "function": os.environ["AWS_LAMBDA_FUNCTION_NAME"],
            "setting": os.environ.get("SETTING"), "remaining_ms": context.get_remaining_time_in_millis()}
