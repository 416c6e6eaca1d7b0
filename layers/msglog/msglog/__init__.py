"""Message Log Service: domain logic, provider parsers, key builders and data access.

Shipped as the Lambda layer `MsgLogLayer`; the handlers in `functions/` stay thin and call in here.
Its modules, grouped in the way data flows (intake, storage, views, jobs); a module imports from its
own group and those above it, never from one below (tests/template/test_imports.py holds the code
to this map, and fails on any import cycle):

- foundations: clock ids keys errors config snapstart aws telemetry fanout addresses fields csvrows
  precedence models auth problems cursor listing pages
    (precedence: the status vocabulary and its order; models: the one table; auth: callers and their
    rights; problems: errors as HTTP; listing: what a list was asked for; pages: reading and serving
    one page of any list)
- tenants: tenants tenant_log_writer provenance audit policy alerts
    (tenants: settings and credentials as every path reads them; tenant_log_writer: one line in the
    tenant's own logs)
- intake: providers provider_apis schemas webhooks parking arrivals ingestion_log provider_ids screening
  suppressions provider_lists bodies stats counts sent_sorts status_writer ingest people messages lifecycle
    (providers/: one pure module per provider; provider_apis/: each provider's API, read as its webhooks;
    provider_lists: the providers' own suppression lists;
    schemas: request bodies; webhooks: a request to stored events; ingest: events to deliveries; status_writer:
    statuses in batches; messages: recording; lifecycle: a scheduled message's life)
- views: rows views tenant_logs http
    (views: the message logs; tenant_logs: activity, audit, panel, login and API logs; http: what the
    HTTP handlers share)
- jobs: reports exports list_responses purge erasure refresh recovery ingestion_health tenant_admin reindex operations
    (reports: every list by name; list_responses: a list as JSON, CSV, or an export job; refresh: one message
    from its provider's API; recovery: a window of a provider's events)
"""
