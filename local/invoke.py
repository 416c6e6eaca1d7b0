"""`make invoke FUNCTION=<LogicalId> EVENT=<file or JSON>`: one function of template.yaml, in this
process, against the stack that `make run` started with the same PORT. Prints the result.

The function's environment is the template's; variables the function reads that are set in
this shell (e.g. WEBHOOK_MAX_AGE_SECONDS=0 for a sample webhook with an old signature) win.
"""

from __future__ import annotations

import json
import os
import sys
import urllib.request
from collections.abc import Mapping
from typing import Any

from local.stack import aws_environment, environments, function_extras, state_file
from local.template import functions


def shell_and_stack(environ: Mapping[str, str], info: dict[str, Any]) -> dict[str, str]:
    """The shell's settings, and the fake providers' URLs the running stack started (FAKE_PROVIDERS=1)
    where the shell does not set them."""
    return {**info.get("provider_env", {}), **environ}


def main(function: str, event_file: str) -> int:
    port = int(os.environ.get("PORT", "3000"))
    state = state_file(port)
    if not state.exists():
        print(f"no local stack on PORT={port}: start it with `make run` (same PORT) first", file=sys.stderr)
        return 2
    if function not in functions():
        print(f"no function {function!r} in template.yaml; one of: {', '.join(functions())}", file=sys.stderr)
        return 2
    info = json.loads(state.read_text())
    os.environ.update(aws_environment(info["moto_port"]))
    try:
        urllib.request.urlopen(f"http://127.0.0.1:{info['moto_port']}/moto-api/", timeout=2)  # noqa: S310
    except OSError:
        print(f"the local stack on PORT={port} is not answering; start it again with `make run`", file=sys.stderr)
        return 2
    from local.runtime import Runtime

    envs = environments(info["refs"], info["overrides"])
    shell = {name: os.environ[name] for name in envs[function] if name in os.environ and name.startswith("WEBHOOK_")}
    runtime = Runtime(envs, extra_env={**function_extras(port, shell_and_stack(os.environ, info)), **shell})
    if event_file.lstrip().startswith("{"):  # operator commands pass the event itself
        event = json.loads(event_file)
    else:
        with open(event_file) as handle:
            event = json.load(handle)
    print(json.dumps(runtime.invoke(function, event), indent=2, default=str))
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 3 or not sys.argv[2]:
        print("usage: make invoke FUNCTION=<LogicalId> EVENT=<file>", file=sys.stderr)
        sys.exit(2)
    sys.exit(main(sys.argv[1], sys.argv[2]))
