"""The alerts topic (`AlertsTopic`): who receives a tenant's ingestion-health alerts, and sending them.

A subscription belongs to an address, not to a tenant. SNS subscribes an endpoint to a topic only
once (a second Subscribe with other attributes is refused), and several tenants may well give the
same address — a district's IT desk for each of its schools. So the filter policy names the
address, by a digest (`alert_to`), the same for every tenant that gives it, and Subscribe answers
the existing subscription; each alert carries the digest of its tenant's address *now*. Another
tenant's alert never matches, and an address a tenant stops using stops getting its alerts at
once, whether or not its subscription is gone yet.

The registry item `ALERTS#<digest>` lists the tenants using an address: the last one to leave
unsubscribes it. Subscribing comes before the settings name the address (an address in the
settings has a subscription); releasing the previous one comes after, best effort (if it fails, that
address merely keeps an idle subscription). SNS e-mails the address a confirmation link first: no
alert reaches it before someone follows the link.
"""

from __future__ import annotations

import json
from hashlib import blake2b

from aws_lambda_powertools import Logger

from msglog import keys
from msglog.config import config
from msglog.errors import invalid
from msglog.models import AlertAddress, TenantSettings

logger = Logger(child=True)
TAG = "alert_to"  # the message attribute and filter-policy key
_TYPED = AlertAddress.type.set(AlertAddress)  # an update may create the item: give it its item type


def tag(address: str) -> str:
    """The address as the topic's filter knows it: a digest, so messages never carry the address."""
    return blake2b(address.strip().lower().encode(), digest_size=12).hexdigest()


def readdress(tenant: str, current: TenantSettings, address: str | None) -> tuple[str, str | None] | None:
    """Subscribe `address` (a new alert address about to be saved on `current`) and note its
    subscription on `current`. Returns the previous (address, subscription) to `release` once the
    settings are saved, or None when nothing is to be released."""
    if not address or (current.alert_email and tag(current.alert_email) == tag(address)
                       and current.alert_subscription_arn):
        return None  # unchanged (case aside), and subscribed already
    previous = current.alert_email, current.alert_subscription_arn
    current.alert_subscription_arn = _subscribe(tenant, address)
    if previous[0] and tag(previous[0]) != tag(address):
        return previous[0], previous[1]
    return None


def _subscribe(tenant: str, address: str) -> str:
    from botocore.exceptions import ClientError

    from msglog.aws import client

    digest = tag(address)
    # Listed first, so that a tenant leaving this address at the same moment does not unsubscribe it.
    AlertAddress(keys.alert_address_pk(digest), keys.ALERT_ADDRESS_SK).update(
        actions=[_TYPED, AlertAddress.tenants.add({tenant})])
    try:
        return client("sns").subscribe(
            TopicArn=config().alerts_topic_arn, Protocol="email", Endpoint=address.strip().lower(),
            Attributes={"FilterPolicy": json.dumps({TAG: [digest]})}, ReturnSubscriptionArn=True,
        )["SubscriptionArn"]
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") == "InvalidParameter":
            raise invalid("alert_email", "is not an address Amazon SNS can send to") from None
        raise


def release(tenant: str, previous: tuple[str, str | None] | None) -> None:
    """The tenant no longer alerts `previous` (address, subscription): unsubscribe it if no tenant
    does. Best effort: the address gets none of this tenant's alerts whatever happens here."""
    if previous is None:
        return
    address, subscription = previous
    try:
        item = AlertAddress(keys.alert_address_pk(tag(address)), keys.ALERT_ADDRESS_SK)
        item.update(actions=[_TYPED, AlertAddress.tenants.delete({tenant})])  # the item now holds what is left
        if not item.tenants and subscription:
            from msglog.aws import client

            client("sns").unsubscribe(SubscriptionArn=subscription)
    except Exception:  # the new address is saved and subscribed; this one only stays subscribed
        logger.warning("the previous alert address could not be released", exc_info=True,
                       extra={"tenant_id": tenant})


def publish(tenant: str, provider: str, *, kind: str, subject: str, text: str, alert_email: str | None) -> str:
    """Send one alert to the topic: to the tenant's alert address (if it has one) and to any
    subscriber filtering on `tenant_id`, `provider` or `kind` (an operator's queue, say)."""
    from msglog.aws import client

    attributes = {"tenant_id": tenant, "provider": provider, "kind": kind}
    if alert_email:
        attributes[TAG] = tag(alert_email)
    return client("sns").publish(
        TopicArn=config().alerts_topic_arn, Subject=subject[:100], Message=text,
        MessageAttributes={name: {"DataType": "String", "StringValue": value} for name, value in attributes.items()},
    )["MessageId"]
