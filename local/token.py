"""Mint a local JWT: python -m local.token TENANT [RIGHT ...] (default: admin, every org unit)."""

from __future__ import annotations

import sys

from local.apigw import mint_token


def main(argv: list[str]) -> None:
    tenant = argv[0] if argv else "demo"
    rights = argv[1:] or ["admin"]
    print(mint_token({"sub": "local-user", "name": "Local User", "tenant_id": tenant, "rights": rights,
                      "org_units": ["*"]}))


if __name__ == "__main__":
    main(sys.argv[1:])
