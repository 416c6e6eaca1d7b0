"""Typed configuration from the environment that template.yaml's Globals define."""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cache

from msglog.snapstart import after_restore


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
    alerts_topic_arn: str = ""  # ingestion-health alerts (msglog.alerts)
    alert_topic_prefix: str = "message-log-alert-"  # each alert address's own topic: this, then its digest
    export_bucket: str = "message-log-exports"
    export_queue_url: str = ""
    status_queue_url: str = ""  # StatusChanges (msglog.status_writer)
    # a request changing more deliveries than this queues them for the status writer; 0 (issue 21): every
    # request — the writer moves the counts anyway, so updating the delivery too was a write and a request more
    status_direct_max: int = 0
    csv_max_rows: int = 5_000  # an inline CSV answer: within Lambda's 6 MB and API Gateway's 30 s
    csv_max_bytes: int = 5_000_000
    csv_max_seconds: float = 15
    export_chunk_bytes: int = 8 * 1024 * 1024  # an export run commits its rows to S3 in chunks of about this size
    export_part_bytes: int = 8 * 1024 * 1024  # the file's multipart parts: S3 wants >= 5 MiB (but the last)
    export_reserve_seconds: float = 120  # an export run stops this long before its time is up
    export_max_receives: int = 3  # the ExportJobs queue's maxReceiveCount: the last attempt marks the job failed
    sort_max_items: int = 1_000  # sort=recipient|status reads the whole range: at most this many items
    # items a list page examines per source (Query) at most: a rare filter costs pages, not reads
    page_budget: int = 500


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
        alerts_topic_arn=env.get("ALERTS_TOPIC_ARN", ""),
        alert_topic_prefix=env.get("ALERT_TOPIC_PREFIX", "message-log-alert-"),
        export_bucket=env.get("EXPORT_BUCKET", "message-log-exports"),
        export_queue_url=env.get("EXPORT_QUEUE_URL", ""),
        status_queue_url=env.get("STATUS_QUEUE_URL", ""),
        status_direct_max=int(env.get("STATUS_DIRECT_MAX", "0")),
        csv_max_rows=int(env.get("CSV_MAX_ROWS", "5000")),
        csv_max_bytes=int(env.get("CSV_MAX_BYTES", "5000000")),
        csv_max_seconds=float(env.get("CSV_MAX_SECONDS", "15")),
        export_chunk_bytes=int(env.get("EXPORT_CHUNK_BYTES", str(8 * 1024 * 1024))),
        export_part_bytes=int(env.get("EXPORT_PART_BYTES", str(8 * 1024 * 1024))),
        export_reserve_seconds=float(env.get("EXPORT_RESERVE_SECONDS", "120")),
        export_max_receives=int(env.get("EXPORT_MAX_RECEIVES", "3")),
        sort_max_items=int(env.get("SORT_MAX_ITEMS", "1000")),
        page_budget=int(env.get("PAGE_BUDGET", "500")),
    )


@after_restore
def _reread_config() -> None:
    # Read once per process: a restored copy reads its own environment.
    config.cache_clear()


reset = _reread_config  # tests: a fresh container reads the environment they set
