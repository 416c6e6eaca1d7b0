"""Figure 7: dollars per million webhook events, from the measured figures and published prices.

On-demand prices in us-east-1, as AWS publishes them (first tier of each): API Gateway HTTP API,
Lambda on arm64 (billed per started millisecond, at the function's MemorySize) — the webhook
function per POST and the status writer per batch — SQS FIFO requests (the status changes: each
SendMessageBatch, and per batch the event source's ReceiveMessage and DeleteMessageBatch), DynamoDB
on-demand write and read request units. Not counted: CloudWatch logs and metrics, X-Ray, KMS
(credentials are decrypted once a minute per container), the event source's empty polls of an idle
queue (a fixed monthly amount, not per event), data transfer.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

PRICES_AS_OF = "the AWS pricing pages for us-east-1 as of 2025 (DynamoDB on-demand after its November 2024 price cut)"


@dataclass(frozen=True)
class Prices:
    http_api_per_million: float = 1.00  # requests, first 300 million a month
    lambda_requests_per_million: float = 0.20
    lambda_gb_second: float = 0.0000133334  # arm64, first 7.5 billion GB-s a month
    write_units_per_million: float = 0.625
    read_units_per_million: float = 0.125
    sqs_fifo_per_million: float = 0.50  # requests (each 64 KB of a request counts as one)


PRICES = Prices()


@dataclass(frozen=True)
class Cost:
    api: float
    lambda_requests: float
    lambda_duration: float
    writes: float
    reads: float
    queue: float = 0.0

    @property
    def total(self) -> float:
        return self.api + self.lambda_requests + self.lambda_duration + self.writes + self.reads + self.queue


def per_million_events(*, events_per_request: int, ms_per_request: float, memory_mb: int,
                       write_units_per_event: float, read_units_per_event: float, status_batches_per_event: float = 0.0,
                       ms_per_status_batch: float = 0.0, status_memory_mb: int = 0,
                       queue_requests_per_event: float = 0.0, prices: Prices = PRICES) -> Cost:
    """What a million events cost, delivered `events_per_request` to a webhook request, their status
    changes written by `status_batches_per_event` status-writer invocations of `ms_per_status_batch`."""
    requests = 1_000_000 / events_per_request
    batches = 1_000_000 * status_batches_per_event
    gb_seconds = (requests * math.ceil(ms_per_request) / 1000 * memory_mb
                  + batches * math.ceil(ms_per_status_batch) / 1000 * status_memory_mb) / 1024
    return Cost(
        api=requests * prices.http_api_per_million / 1_000_000,
        lambda_requests=(requests + batches) * prices.lambda_requests_per_million / 1_000_000,
        lambda_duration=gb_seconds * prices.lambda_gb_second,
        writes=write_units_per_event * prices.write_units_per_million,
        reads=read_units_per_event * prices.read_units_per_million,
        queue=queue_requests_per_event * prices.sqs_fifo_per_million,
    )
