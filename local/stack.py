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
    MAILGUN_API_URL, SENDGRID_API_URL, POSTMARK_API_URL, TWILIO_API_URL
                       the provider APIs refresh and recovery call (e.g. a fake of local/fakes)
    AWS_ENDPOINT_URL_SESV2  where SES's account suppression list is asked (moto has none)
    FAKE_PROVIDERS=1   start every provider's fake API (local/fakes), point the five settings above at them,
                       and give the demo tenant API credentials for them (local.fake_providers)
Ctrl-C stops the server, the functions' processes and moto.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import sys
import threading
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from local import seed
from local.fake_providers import FakeProviders
from local.template import REGION, ROOT, functions

STATE_DIR = ROOT / ".local"
PROGRESS_SECONDS = 3.0  # how often the demo's loading progress is printed
CONSOLE_PAGE = 50  # rows of the console's first screen, the sent log (console/js/list.js)


def aws_environment(moto_port: int) -> dict[str, str]:
    return {
        "AWS_ENDPOINT_URL": f"http://127.0.0.1:{moto_port}",
        "AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local",
        "AWS_DEFAULT_REGION": REGION, "AWS_REGION": REGION,
    }


# Settings `make run` takes from the shell (SPEC, Webhook checks): the template parameter each sets…
SHELL_PARAMETERS = {"WEBHOOK_MAX_AGE_SECONDS": "WebhookMaxAgeSeconds", "LOG_LEVEL": "LogLevel"}
# …and those the template does not declare, handed to the functions as they are.
SHELL_PASSED = ("SNS_SIGNING_CERTS_DIR", "MAILGUN_API_URL", "SENDGRID_API_URL", "POSTMARK_API_URL", "TWILIO_API_URL",
                "AWS_ENDPOINT_URL_SESV2")


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
    fake_providers: bool = False

    def start(self) -> None:
        from local.motoserver import AtomicMotoServer

        self._moto = AtomicMotoServer(ip_address="127.0.0.1", port=self.moto_port, verbose=False)
        self._moto.start()
        os.environ.update(aws_environment(self.moto_port))
        self.fakes = FakeProviders.start() if self.fake_providers else None
        if self.fakes:
            os.environ.update(self.fakes.environment())  # before the functions' environments are made
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
        state_file(self.port).write_text(json.dumps(  # provider_env: `make invoke`/`make recover` reach the fakes too
            {"moto_port": self.moto_port, "refs": refs, "overrides": self.overrides, "pid": os.getpid(),
             "provider_env": self.fakes.environment() if self.fakes else {}}))
        self._server = serve(self.gateway, "127.0.0.1", self.port)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        from local.queues import Poller, Pump

        self._poller = Poller(Pump(self.runtime))  # SQS event sources (export jobs), as Lambda polls them
        self._poller.start()
        self.demo = DemoLoader(self.gateway, f"http://127.0.0.1:{self.port}",
                               int(os.environ.get("DEMO_MESSAGES", seed.MESSAGES)), fakes=self.fakes) \
            if self.seed else None

    def stop(self) -> None:
        """Everything down within a second or two, the demo half loaded or requests in flight."""
        if self.demo:
            self.demo.stop()  # no further request; the one in flight ends with the runtime
        self._poller.stop()
        self._server.shutdown()
        self._server.server_close()
        self.runtime.close()  # every environment, busy or idle, terminated at once
        self._moto.stop()
        if self.fakes:
            self.fakes.stop()
        state_file(self.port).unlink(missing_ok=True)


class DemoLoader:
    """The demo loading behind the API (`make run` serves first): seed.run in a daemon thread, its
    progress printed every few seconds (one updating line on a terminal), then a summary."""

    def __init__(self, gateway: Any, base_url: str, messages: int, out: TextIO | None = None,
                 every_seconds: float = PROGRESS_SECONDS, fakes: FakeProviders | None = None):
        self.gateway, self.base_url, self.out, self.fakes = gateway, base_url, out or sys.stdout, fakes
        self.token = seed.demo_token()
        self.sample_address = seed.sample_address()
        self.progress = seed.Progress(messages)
        self.every_seconds = every_seconds
        self.loaded: seed.Demo | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._load, name="demo-loader", daemon=True)
        self._tty = self.out.isatty()

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Stop between two requests; the one in flight is not waited for (the thread is a daemon)."""
        self._stop.set()

    def _print(self, line: str, final: bool = False) -> None:
        if self._tty:  # one line, rewritten in place
            self.out.write(f"\r\x1b[K{line}" + ("\n" if final else ""))
        else:
            self.out.write(line + "\n")
        self.out.flush()

    def _load(self) -> None:
        started = time.monotonic()
        reporter = threading.Thread(target=self._report, name="demo-progress", daemon=True)
        reporter.start()
        failure = None
        try:
            self.loaded = seed.run(self.gateway, self.base_url, self.progress.total, token=self.token,
                                   progress=self.progress, stop=self._stop, fakes=self.fakes)
            self._start_first_screen()
        except seed.Stopped:
            return
        except Exception as error:  # noqa: BLE001 - the API goes on serving; say why the demo is short
            failure = error
        finally:
            self._stop.set()  # ends the reporter, whose last line then comes before ours
            reporter.join()
        if failure or not self.loaded:
            self._print(f"demo loading failed ({self.progress.line()}): {failure}", final=True)
            return
        demo = self.loaded
        self._print(f"demo loaded in {time.monotonic() - started:.0f} s: {demo.messages} messages, "
                    f"{demo.webhooks} webhook events in {demo.requests} webhook requests", final=True)

    def _start_first_screen(self) -> None:
        """The console opens on the sent log: its function is started now (as SnapStart or provisioned
        concurrency has it in AWS), so the printed link's first open does not wait for a cold start."""
        self.gateway.handle("GET", f"/v1/messages?limit={CONSOLE_PAGE}",
                            {"host": "127.0.0.1", "authorization": f"Bearer {self.token}"}, b"")

    def _report(self) -> None:
        while not self._stop.wait(self.every_seconds):
            self._print(self.progress.line())


def console_link(port: int, token: str) -> str:
    """The web console's link: the token in the fragment, which never reaches a server or its logs."""
    return f"http://127.0.0.1:{port}/console/#token={token}"


def _banner(port: int, demo: DemoLoader | None, console_served: bool) -> str:
    base = f"http://127.0.0.1:{port}"
    lines = [
        f"Message Log Service on {base}  (moto: {os.environ['AWS_ENDPOINT_URL']})",
        "",
        "Admin token of the demo tenant (HS256, LOCAL_JWT_SECRET):",
        f"  export TOKEN={demo.token}" if demo else "  (SEED=0: mint one with python -m local.token)",
    ]
    if demo:
        served = "Console, signed in as that admin:" if console_served else "Console (not served: console/ is missing):"
        lines += ["", served,
                  f"  {console_link(port, demo.token)}"]
    lines += [
        "",
        "Try:",
        f'  curl -s -H "Authorization: Bearer $TOKEN" "{base}/v1/messages?limit=5"',
    ]
    if demo:
        lines += [
            f'  curl -s -H "Authorization: Bearer $TOKEN" "{base}/v1/recipients/{demo.sample_address}/messages"',
            f'  curl -s -H "Authorization: Bearer $TOKEN" "{base}/v1/events?event=bounced"',
            "",
            f"The demo ({demo.progress.total} messages and their webhooks) loads now, behind the API: "
            "progress follows.",
        ]
    lines += [
        "",
        f"The functions' logs and metrics: {functions_log(port).relative_to(ROOT)}",
        "Ctrl-C stops everything.",
    ]
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
        print(
            f"port {busy} is in use (another `make run`?): choose others with PORT=... / MOTO_PORT=...", file=sys.stderr
        )
        sys.exit(1)
    stack = Stack(port, moto_port, seed=os.environ.get("SEED", "1") != "0", overrides=overrides,
                  concurrency=max(1, int(os.environ.get("LOCAL_CONCURRENCY", "4"))),
                  throttle_seconds=float(os.environ.get("LOCAL_THROTTLE_SECONDS", "60")),
                  fake_providers=os.environ.get("FAKE_PROVIDERS", "0") == "1")
    # Ctrl-C or SIGTERM asks the main thread to stop everything. A plain list, not an Event: the
    # handler may run inside any lock wait of the main thread, and must take no lock itself.
    stopping: list[int] = []
    signal.signal(signal.SIGINT, lambda signum, _: stopping.append(signum))
    signal.signal(signal.SIGTERM, lambda signum, _: stopping.append(signum))
    print(f"starting moto on 127.0.0.1:{moto_port} and the API on 127.0.0.1:{port} ...", flush=True)
    stack.start()
    stack.gateway.handle("GET", "/v1/health", {}, b"")  # its cold start now, not on the newcomer's first call
    console_served = stack.gateway.handle("GET", "/console/", {}, b"")[0] == 200
    print(_banner(port, stack.demo, console_served), flush=True)
    if stack.fakes:
        print("Fake provider APIs (FAKE_PROVIDERS=1): " + ", ".join(f"{name} {api.url}" for name, api in
              stack.fakes.apis.items()) + "; the demo tenant has API credentials for them (refresh a message: "
              "POST /v1/messages/{id}/refresh)", flush=True)
    if stack.demo and not stopping:
        stack.demo.start()
    while not stopping:  # polled: a signal the kernel hands to another thread wakes no blocked wait here
        time.sleep(0.2)
    print("\nstopping ...", flush=True)
    stack.stop()
    # Leaving, the interpreter would garbage-collect and free every object still alive: moto's whole
    # in-memory AWS (each item, each queued message), seconds to a minute on a busy 2-core machine.
    # stop() has reaped every child process and removed the state file; moto's AWS is thrown away
    # by design: so the process ends here, its output flushed, without finalizing that heap.
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)

if __name__ == "__main__":
    main()
