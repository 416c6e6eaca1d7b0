"""`make run`: moto in server mode, template.yaml's resources in it, demo data, the HTTP API.

    PORT (3000)        the API: http://127.0.0.1:$PORT
    MOTO_PORT          moto's port (default PORT + 1000), where AWS_ENDPOINT_URL points
    SEED=0             start without demo data
    DEMO_MESSAGES      how many demo messages to seed (240)
    LOG_LEVEL          the functions' log level (WARNING locally)
    LOCAL_CONCURRENCY  execution environments (processes) per function, at most (4)
    LOCAL_THROTTLE_SECONDS  how long a request waits for a busy function before its 429 (60)
    WEBHOOK_MAX_AGE_SECONDS  the webhooks' age check (template default 300; 0 = off, to replay old vectors)
    SNS_SIGNING_CERTS_DIR   SNS signing certificates to use instead of fetching them (msglog.providers.ses)
Ctrl-C stops the server, the functions' processes and moto.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import sys
import threading
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from local.template import REGION, ROOT, functions

STATE_DIR = ROOT / ".local"


def aws_environment(moto_port: int) -> dict[str, str]:
    return {
        "AWS_ENDPOINT_URL": f"http://127.0.0.1:{moto_port}",
        "AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local",
        "AWS_DEFAULT_REGION": REGION, "AWS_REGION": REGION,
    }


# Settings `make run` takes from the shell (SPEC, Webhook checks): the template parameter each sets…
SHELL_PARAMETERS = {"WEBHOOK_MAX_AGE_SECONDS": "WebhookMaxAgeSeconds", "LOG_LEVEL": "LogLevel"}
# …and those the template does not declare, handed to the functions as they are.
SHELL_PASSED = ("SNS_SIGNING_CERTS_DIR",)


def shell_overrides(environ: dict[str, str]) -> dict[str, str]:
    """Template parameters from the shell: they win over the template's defaults."""
    overrides = {"LogLevel": "WARNING"}
    overrides.update({parameter: environ[name] for name, parameter in SHELL_PARAMETERS.items() if environ.get(name)})
    return overrides


def function_extras(port: int, environ: dict[str, str] | None = None) -> dict[str, str]:
    """What differs locally from AWS: no X-Ray daemon, the public URL providers call, and the shell's settings."""
    passed = {name: (environ or {})[name] for name in SHELL_PASSED if (environ or {}).get(name)}
    return {"POWERTOOLS_TRACE_DISABLED": "true", "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}", **passed}


def state_file(port: int) -> Path:
    return STATE_DIR / f"stack-{port}.json"


def functions_log(port: int) -> Path:
    """Where the functions' own output goes (structured logs, EMF metrics), as CloudWatch Logs would."""
    return STATE_DIR / f"functions-{port}.log"


def environments(refs: dict[str, str], overrides: dict[str, str]) -> dict[str, dict[str, str]]:
    from local.provision import function_environment

    return {name: function_environment(f.environment, refs, overrides) for name, f in functions().items()}


@dataclass
class Stack:
    port: int
    moto_port: int
    seed: bool = True
    overrides: dict[str, str] = field(default_factory=dict)
    concurrency: int = 4
    throttle_seconds: float = 60.0

    def start(self) -> None:
        from local.motoserver import AtomicMotoServer

        self._moto = AtomicMotoServer(ip_address="127.0.0.1", port=self.moto_port, verbose=False)
        self._moto.start()
        os.environ.update(aws_environment(self.moto_port))
        import boto3

        from local import provision
        from local.environments import Environments
        from local.server import Gateway, serve

        refs = provision.create(boto3.Session())
        STATE_DIR.mkdir(exist_ok=True)
        extras = function_extras(self.port, dict(os.environ))
        self.runtime = Environments(environments(refs, self.overrides), extra_env=extras,
                                    log_path=str(functions_log(self.port)), concurrency=self.concurrency,
                                    wait_seconds=self.throttle_seconds)
        self.gateway = Gateway(self.runtime, self.overrides)
        state_file(self.port).write_text(json.dumps(
            {"moto_port": self.moto_port, "refs": refs, "overrides": self.overrides, "pid": os.getpid()}))
        if self.seed:
            from local import seed

            count = int(os.environ.get("DEMO_MESSAGES", seed.MESSAGES))
            print(f"seeding the demo tenant: {count} messages and their Mailgun webhooks ...", flush=True)
            self.demo = seed.run(self.gateway, f"http://127.0.0.1:{self.port}", messages=count)
        self._server = serve(self.gateway, "127.0.0.1", self.port)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        from local.queues import Poller, Pump

        self._poller = Poller(Pump(self.runtime))  # SQS event sources (export jobs), as Lambda polls them
        self._poller.start()

    def stop(self) -> None:
        self._poller.stop()
        self._server.shutdown()
        self._server.server_close()
        self.runtime.close()
        self._moto.stop()
        state_file(self.port).unlink(missing_ok=True)


def _banner(port: int, demo: Any) -> str:
    base = f"http://127.0.0.1:{port}"
    lines = [
        f"Message Log Service on {base}  (moto: {os.environ['AWS_ENDPOINT_URL']})",
        "",
        "Admin token of the demo tenant (HS256, LOCAL_JWT_SECRET):",
        f"  export TOKEN={demo.token}" if demo else "  (SEED=0: mint one with python -m local.token)",
        "",
        "Try:",
        f'  curl -s -H "Authorization: Bearer $TOKEN" "{base}/v1/messages?limit=5"',
    ]
    if demo:
        lines += [
            f'  curl -s -H "Authorization: Bearer $TOKEN" "{base}/v1/recipients/{demo.sample_address}/messages"',
            f'  curl -s -H "Authorization: Bearer $TOKEN" "{base}/v1/events?event=bounced"',
        ]
    lines += ["", f"The functions' logs and metrics: {functions_log(port).relative_to(ROOT)}", "Ctrl-C stops everything."]
    return "\n".join(lines)


def _port_free(port: int) -> bool:
    import socket

    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) != 0


def main() -> None:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s %(message)s")
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # moto's request log
    warnings.filterwarnings("ignore", message="No application metrics to publish")
    port = int(os.environ.get("PORT", "3000"))
    moto_port = int(os.environ.get("MOTO_PORT", str(port + 1000)))
    overrides = shell_overrides(dict(os.environ))
    for busy in (p for p in (port, moto_port) if not _port_free(p)):
        print(f"port {busy} is in use (another `make run`?): choose others with PORT=... / MOTO_PORT=...", file=sys.stderr)
        sys.exit(1)
    stack = Stack(port, moto_port, seed=os.environ.get("SEED", "1") != "0", overrides=overrides,
                  concurrency=max(1, int(os.environ.get("LOCAL_CONCURRENCY", "4"))),
                  throttle_seconds=float(os.environ.get("LOCAL_THROTTLE_SECONDS", "60")))
    print(f"starting moto on 127.0.0.1:{moto_port} and the API on 127.0.0.1:{port} ...", flush=True)
    stack.start()
    print(_banner(port, getattr(stack, "demo", None)), flush=True)
    stopped = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stopped.set())
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    stopped.wait()
    print("\nstopping ...", flush=True)
    stack.stop()
    sys.exit(0)


if __name__ == "__main__":
    main()
