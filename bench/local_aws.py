"""The local DynamoDB server the benchmarks run against, and the functions in front of it.

moto in server mode, as `make run` uses it, but in a process of its own: on two cores the
functions and the server then do not share one interpreter lock, as Lambda and DynamoDB do not.
template.yaml's resources are created in it (local.provision) and the functions run in this
process through the local gateway (local.runtime, local.server), each with its template
environment — the same path as `make run` and the API tests.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections import deque
from collections.abc import Iterable
from contextlib import redirect_stdout
from dataclasses import dataclass
from functools import cached_property
from typing import Any, TextIO

from local.provision import physical_name
from local.stack import STATE_DIR, aws_environment
from local.template import REGION

FUNCTIONS_LOG = STATE_DIR / "bench-functions.log"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class LocalAws:
    process: subprocess.Popen
    endpoint: str
    refs: dict[str, str]
    envs: dict[str, dict[str, str]]  # each function's template environment
    gateway: Any  # local.server.Gateway
    table: str
    _output: TextIO

    @cached_property
    def dynamodb(self) -> Any:
        """A plain botocore DynamoDB client of the harness (loading rows, reading items back)."""
        import botocore.session
        from botocore.config import Config

        return botocore.session.get_session().create_client(
            "dynamodb", region_name=os.environ["AWS_REGION"], endpoint_url=self.endpoint,
            config=Config(max_pool_connections=16, retries={"max_attempts": 8, "mode": "standard"}))

    def read_items(self, keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], dict[str, Any]]:
        """The current items of `keys` (strongly consistent), by (pk, sk); absent keys are left out."""
        client, wanted, found = self.dynamodb, sorted(set(keys)), {}
        for start in range(0, len(wanted), 100):
            chunk = wanted[start:start + 100]
            request = {self.table: {"Keys": [{"pk": {"S": pk}, "sk": {"S": sk}} for pk, sk in chunk],
                                    "ConsistentRead": True}}
            while request:
                answer = client.batch_get_item(RequestItems=request)
                for item in answer["Responses"].get(self.table, []):
                    found[(item["pk"]["S"], item["sk"]["S"])] = item
                request = answer.get("UnprocessedKeys") or None
        return found

    def write_items(self, items: Iterable[dict[str, Any]]) -> int:
        """Put items (wire format) 25 to a BatchWriteItem, a few requests in flight while the rest are built."""
        from concurrent.futures import ThreadPoolExecutor
        from itertools import batched

        client, in_flight, written = self.dynamodb, deque(), 0

        def put(batch: tuple[dict[str, Any], ...]) -> None:
            request = {self.table: [{"PutRequest": {"Item": item}} for item in batch]}
            while request:
                request = client.batch_write_item(RequestItems=request).get("UnprocessedItems") or None

        with ThreadPoolExecutor(max_workers=4) as pool:
            for batch in batched(items, 25, strict=False):
                in_flight.append(pool.submit(put, batch))
                written += len(batch)
                if len(in_flight) >= 16:
                    in_flight.popleft().result()
            for future in in_flight:
                future.result()
        return written

    @cached_property
    def status_pump(self) -> Any:
        """Delivers the StatusChanges queue to StatusFunction, as its SQS event source would."""
        from local.queues import Pump

        return Pump(self.gateway.runtime, functions=frozenset({"StatusFunction"}))

    def reset(self) -> None:
        """Empty moto (every resource gone) and create template.yaml's resources again, same names."""
        import boto3

        from local import provision

        urllib.request.urlopen(urllib.request.Request(f"{self.endpoint}/moto-api/reset", method="POST"), timeout=30)
        self.refs = provision.create(boto3.Session())

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self._output.close()


def prepare_environment() -> None:
    """Call before anything imports msglog: its models read the table name and region once, at import.
    Fake keys and no shared AWS config files: nothing here can reach a real account."""
    os.environ.update({"TABLE_NAME": physical_name("Table"), "AWS_REGION": REGION, "AWS_DEFAULT_REGION": REGION,
                       "AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local",
                       "AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
                       "POWERTOOLS_TRACE_DISABLED": "true", "POWERTOOLS_SERVICE_NAME": "message-log",
                       "POWERTOOLS_METRICS_NAMESPACE": "MessageLog"})
    os.environ.pop("AWS_SESSION_TOKEN", None)
    os.environ.pop("AWS_PROFILE", None)


def start() -> LocalAws:
    port = _free_port()
    process = subprocess.Popen([sys.executable, "-m", "bench.moto_server", "-H", "127.0.0.1", "-p", str(port)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    endpoint = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            urllib.request.urlopen(f"{endpoint}/moto-api/", timeout=1)
            break
        except OSError:
            time.sleep(0.05)
    else:
        process.terminate()
        raise RuntimeError("moto did not start")
    prepare_environment()
    os.environ.update(aws_environment(port))
    import boto3

    from local import provision
    from local.runtime import Runtime
    from local.server import Gateway
    from local.stack import environments

    refs = provision.create(boto3.Session())
    envs = environments(refs, {})
    FUNCTIONS_LOG.parent.mkdir(exist_ok=True)
    output = FUNCTIONS_LOG.open("w", buffering=1)  # what the functions print (logs, metrics), as CloudWatch gets it
    with redirect_stdout(output):  # powertools binds its log handler to the stdout of its first import
        import msglog.http  # noqa: F401
    runtime = Runtime(envs, extra_env={"POWERTOOLS_TRACE_DISABLED": "true",
                                       "PUBLIC_BASE_URL": "https://api.bench.test"}, output=output)
    return LocalAws(process, endpoint, refs, envs, Gateway(runtime), refs["Table"], output)
