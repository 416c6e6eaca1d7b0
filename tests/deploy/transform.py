"""The built template (.aws-sam/build/template.yaml) as CloudFormation deploys it: SAM's transform
applied, as `sam deploy` has CloudFormation do. Runs in the SAM CLI's virtualenv (.venvs/sam), which
has the translator; writes .aws-sam/build/cloudformation.json for tests/deploy.

usage: .venvs/sam/bin/python tests/deploy/transform.py BUILT_TEMPLATE OUTPUT_JSON
"""

from __future__ import annotations

import json
import os
import sys


class _NoManagedPolicies:
    """The template names no managed policy by name (statements and SAM policy templates only)."""

    def load(self) -> dict[str, str]:
        return {}


def main(source: str, target: str) -> None:
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")  # the translator's ARNs need a partition
    from samcli.yamlhelper import yaml_parse
    from samtranslator.translator.transform import transform

    with open(source) as handle:
        template = yaml_parse(handle.read())
    for logical_id, resource in template.get("Resources", {}).items():  # as `sam deploy` uploads the built code
        for uri in ("CodeUri", "ContentUri"):
            if isinstance(resource.get("Properties", {}).get(uri), str):
                resource["Properties"][uri] = f"s3://package-bucket/{logical_id}"
    translated = transform(template, {}, _NoManagedPolicies())
    with open(target, "w") as handle:
        json.dump(translated, handle, indent=1, sort_keys=True)


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] in ("-h", "--help"):
        print(__doc__.strip())
        sys.exit(0 if len(sys.argv) == 2 else 2)
    main(sys.argv[1], sys.argv[2])
