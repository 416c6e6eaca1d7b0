"""Message bodies: kept in the table up to INLINE_MAX_BYTES of text + HTML; larger ones gzip-compressed
in the MessageBodies bucket, the body item then holding the object's key. Either way the body item
carries the due-index keys (gsi3), so the retention purge finds both kinds the same way.

Object keys are `bodies/<class>/<tenant>/<message id>.json.gz`. The class picks the bucket's
lifecycle backstop (template.yaml): `standard` for tenants keeping bodies at most
STANDARD_RETENTION_MONTHS (expired after 25 months), `extended` for the longer settings (121 months,
past the setting's maximum of 120). The purge deletes them long before; the backstop only catches
what it missed (an object whose message was never completely recorded, for one).
"""

from __future__ import annotations

import gzip
import json
from typing import Any

from pynamodb.exceptions import DeleteError, UpdateError

from msglog import keys
from msglog.config import config
from msglog.models import Message, MessageBody, condition_failed
from msglog.tenants import settings

# Up to this, the detail reads a body in one GetItem; a larger one goes to S3, where size costs
# less (an item: 1 WCU per KB written, 1 RCU per 4 KB read). gsi3 holds no text: one copy either way.
INLINE_MAX_BYTES = 100_000
STANDARD_RETENTION_MONTHS = 24


def store(tenant: str, message_id: str, sent_at: str, text: str | None, html: str | None, shards: int) -> None:
    """Write the body (the object first, then the item that points at it: a retry rewrites both)."""
    body = MessageBody(keys.message_pk(tenant, message_id), keys.BODY_SK, message_id=message_id,
                       gsi3pk=keys.body_due_pk(tenant, keys.shard_of(message_id, shards)),
                       gsi3sk=keys.body_due_sk(sent_at, message_id))
    if len((text or "").encode()) + len((html or "").encode()) > INLINE_MAX_BYTES:
        body.s3_key = _object_key(tenant, message_id)
        document = json.dumps({"text": text, "html": html}).encode()
        from msglog.aws import client

        client("s3").put_object(Bucket=config().body_bucket, Key=body.s3_key, Body=gzip.compress(document, mtime=0),
                                ContentType="application/json", ContentEncoding="gzip", ServerSideEncryption="AES256")
    else:
        body.text, body.html = text, html
    body.save()


def content(body: MessageBody) -> dict[str, Any] | None:
    """{"text", "html"} of a stored body; None if its object is gone (the bucket's backstop expired it)."""
    if not body.s3_key:
        return {"text": body.text, "html": body.html}
    from botocore.exceptions import ClientError

    from msglog.aws import client

    try:
        stored = client("s3").get_object(Bucket=config().body_bucket, Key=body.s3_key)["Body"].read()
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
            return None
        raise
    document = json.loads(gzip.decompress(stored))
    return {"text": document.get("text"), "html": document.get("html")}


def remove(body: MessageBody, stamp: Any, at: str) -> bool:
    """Delete a body for good, and say why on its message (`stamp`: Message.body_purged_at or
    body_erased_at, set once): the message first, then the object, then the item that points at
    it, so a run that fails midway is finished by the next. True if this call deleted the item
    (False: another run did first)."""
    try:
        Message(body.pk, keys.META_SK).update(actions=[stamp.set(stamp | at)], condition=Message.pk.exists())
    except UpdateError as error:
        if not condition_failed(error):
            raise
        # no message item: its recording never completed (a retry would write it); the body goes all the same
    delete_object(body)
    try:
        body.delete(condition=MessageBody.pk.exists())
    except DeleteError as error:
        if not condition_failed(error):
            raise
        return False
    return True


def delete_object(body: MessageBody) -> None:
    """Delete a large body's object (deleting one already gone succeeds: a purge may run twice)."""
    if body.s3_key:
        from msglog.aws import client

        client("s3").delete_object(Bucket=config().body_bucket, Key=body.s3_key)


def _object_key(tenant: str, message_id: str) -> str:
    months = int(settings(tenant).retention_months or STANDARD_RETENTION_MONTHS)
    kind = "standard" if months <= STANDARD_RETENTION_MONTHS else "extended"
    return f"bodies/{kind}/{tenant}/{message_id}.json.gz"
