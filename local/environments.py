"""Lambda's execution environments, locally: each a separate process with its own interpreter,
module state and environment variables, as in AWS. A function has a pool of them: a request goes
to an idle one, else a new one starts (a cold start) while the function has fewer than its
concurrency, else the request waits for one to come free; past `wait_seconds` it is throttled
(API Gateway then answers 429, as it does when Lambda refuses an invocation).

The processes talk to AWS through AWS_ENDPOINT_URL (the stack's moto server), so this is `make
run`'s runtime and the concurrency tests'; the in-process `local.runtime.Runtime` (one invocation
at a time) stays for the tests that run moto in-process (mock_aws).
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import sys
import threading
import traceback
import warnings
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any

from local.runtime import Runtime
from local.template import Function, functions

DEFAULT_CONCURRENCY = 4
DEFAULT_WAIT_SECONDS = 60.0
_SPAWN = multiprocessing.get_context("spawn")  # a fresh interpreter, as a Lambda environment has


class FunctionError(RuntimeError):
    """The function raised (or its environment died): Lambda's unhandled error."""


class Throttled(RuntimeError):
    """No environment came free in time and the function is at its concurrency."""


class Stopping(FunctionError):
    """The runtime closed (Ctrl-C): the invocation was refused, or its environment stopped under it."""


def _serve(connection: Connection, function: Function, env: dict[str, str], log_path: str | None) -> None:
    """One execution environment: load the handler once, then invoke it for each event received."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole process group: the parent stops us
    # A request that records no metric (health, a read) is normal; on our stderr it would cut into the banner.
    warnings.filterwarnings("ignore", message="No application metrics to publish")
    os.environ.update(env)
    output = open(log_path, "a", buffering=1) if log_path else sys.stderr  # noqa: SIM115 - the process's life
    sys.stdout = output  # powertools binds its log handler to the stdout of its import
    runtime = Runtime({function.logical_id: env}, output=output, only={function.logical_id: function})
    while True:
        try:
            event = connection.recv()
        except (EOFError, OSError):  # the parent has gone
            return
        try:
            reply = ("ok", runtime.invoke(function.logical_id, event))
        except Exception:
            reply = ("error", traceback.format_exc())
        connection.send(reply)


@dataclass(eq=False)  # compared by identity: the pool's busy list
class _Environment:
    process: Any
    connection: Connection
    lost: bool = False  # its process ended (crashed, killed): never used again

    def call(self, event: dict[str, Any]) -> Any:
        try:
            self.connection.send(event)
            kind, value = self.connection.recv()
        except (EOFError, OSError) as lost:
            self.lost = True
            raise FunctionError(f"the execution environment (pid {self.process.pid}) died") from lost
        if kind == "error":
            raise FunctionError(value)
        return value

    def stop(self) -> None:
        self.connection.close()
        self.terminate()
        self.reap()

    def terminate(self) -> None:
        """SIGTERM; a thread waiting for its answer sees the pipe close (EOF) as the process ends."""
        self.process.terminate()

    def reap(self) -> None:
        self.process.join(timeout=5)
        if self.process.is_alive():
            self.process.kill()
            self.process.join()


@dataclass
class _Pool:
    function: Function
    env: dict[str, str]
    concurrency: int
    wait_seconds: float
    log_path: str | None
    idle: list[_Environment] = field(default_factory=list)
    busy: list[_Environment] = field(default_factory=list)
    started: int = 0  # environments alive or starting
    cold_starts: int = 0
    closed: bool = False
    ready: threading.Condition = field(default_factory=threading.Condition)

    def _start(self) -> _Environment:
        ours, theirs = _SPAWN.Pipe()
        process = _SPAWN.Process(target=_serve, args=(theirs, self.function, self.env, self.log_path),
                                 name=f"lambda-{self.function.logical_id}", daemon=True)
        process.start()
        theirs.close()
        return _Environment(process, ours)

    def _acquire(self) -> _Environment:
        with self.ready:
            if not self.ready.wait_for(lambda: self.closed or self.idle or self.started < self.concurrency,
                                       timeout=self.wait_seconds):
                raise Throttled(f"{self.function.logical_id}: all {self.concurrency} environments busy")
            if self.closed:
                raise Stopping("the runtime is stopping")
            if self.idle:
                environment = self.idle.pop()
                self.busy.append(environment)
                return environment
            self.started += 1
            self.cold_starts += 1
        try:
            environment = self._start()
        except BaseException:
            self._forget()
            raise
        with self.ready:
            self.busy.append(environment)
        if self.closed:  # closed while it started: close() did not see it
            environment.stop()
            raise Stopping("the runtime is stopping")
        return environment

    def _forget(self, environment: _Environment | None = None) -> None:
        with self.ready:
            self.started -= 1
            if environment in self.busy:
                self.busy.remove(environment)
            self.ready.notify()

    def invoke(self, event: dict[str, Any]) -> Any:
        environment = self._acquire()
        try:
            result = environment.call(event)
        except FunctionError:
            if self.closed:  # close() stopped it mid-invocation
                raise Stopping("the runtime stopped during the invocation") from None
            if environment.lost:
                self._forget(environment)
                environment.stop()
            else:
                self._release(environment)
            raise
        self._release(environment)
        return result

    def _release(self, environment: _Environment) -> None:
        with self.ready:
            if environment in self.busy:
                self.busy.remove(environment)
            if self.closed:
                self.started -= 1
            else:
                self.idle.append(environment)
            self.ready.notify()
        if self.closed:
            environment.stop()

    def close(self) -> list[_Environment]:
        """Refuse new invocations and terminate every environment, the busy ones too (an invocation in
        flight ends with Stopping); returns them, for the caller to reap (all pools at once)."""
        with self.ready:
            self.closed = True
            idle, self.idle = self.idle, []
            self.started -= len(idle)
            stopping = idle + self.busy
            self.ready.notify_all()
        for environment in idle:
            environment.connection.close()
        for environment in stopping:
            environment.terminate()
        return stopping


class Environments:
    """Runtime's interface (`names`, `invoke`) over a pool of processes per function."""

    def __init__(self, environments: dict[str, dict[str, str]], extra_env: dict[str, str] | None = None,
                 log_path: str | None = None, concurrency: int = DEFAULT_CONCURRENCY,
                 wait_seconds: float = DEFAULT_WAIT_SECONDS, only: dict[str, Function] | None = None):
        """`only`: these functions instead of template.yaml's (the pool's own tests)."""
        self._functions = only or functions()
        base = {name: os.environ[name] for name in ("AWS_ENDPOINT_URL",) if name in os.environ}
        self._pools = {
            name: _Pool(function, {**base, **environments.get(name, {}), **(extra_env or {}),
                                   "AWS_LAMBDA_FUNCTION_NAME": name,
                                   "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(function.memory)},
                        concurrency, wait_seconds, log_path)
            for name, function in self._functions.items()
        }

    @property
    def names(self) -> list[str]:
        return list(self._functions)

    def invoke(self, logical_id: str, event: dict[str, Any]) -> Any:
        return self._pools[logical_id].invoke(event)

    def cold_starts(self, logical_id: str) -> int:
        return self._pools[logical_id].cold_starts

    def close(self) -> None:
        """Every environment terminated at once, then reaped: Ctrl-C waits for none of them in turn."""
        stopping = [environment for pool in self._pools.values() for environment in pool.close()]
        for environment in stopping:
            environment.reap()
