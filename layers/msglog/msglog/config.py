"""Typed configuration from the environment that template.yaml's Globals define."""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cache


@dataclass(frozen=True, slots=True)
class Config:
    table_name: str
    provider_key_id: str
    cursor_secret_id: str
    webhook_max_age_seconds: int
    public_base_url: str | None
    stage: str
    parked_bucket: str
    body_bucket: str


@cache
def config() -> Config:
    env = os.environ
    return Config(
        table_name=env.get("TABLE_NAME", "message-log"),
        provider_key_id=env.get("PROVIDER_KEY_ID", "alias/message-log-dev-providers"),
        cursor_secret_id=env.get("CURSOR_SECRET_ID", "message-log-cursor"),
        webhook_max_age_seconds=int(env.get("WEBHOOK_MAX_AGE_SECONDS", "300")),
        public_base_url=env.get("PUBLIC_BASE_URL") or None,
        stage=env.get("STAGE", "dev"),
        parked_bucket=env.get("PARKED_BUCKET", "message-log-parked"),
        body_bucket=env.get("BODY_BUCKET", "message-log-bodies"),
    )
