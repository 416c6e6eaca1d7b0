"""Who receives a tenant's ingestion-health alerts, and sending them.

Every alert goes to the operators' topic (`AlertsTopic`), with its tenant, provider and kind as
message attributes for their own filtered subscriptions. A tenant's `alert_email` gets it from a
topic of its own address, `<stack>-alert-<digest>`, created on demand: SNS allows 200 filter
policies per topic, so one shared topic filtering per address would refuse the 201st address,
while an account holds 100,000 topics (a quota that can be raised) of 12.5 million subscriptions
each. No filter at all: another tenant's alert never reaches an address, because it is never
published to that address's topic; an address a tenant stops using gets none of its alerts from
then on, whether or not its subscription is gone yet.

Several tenants may give the same address (a district's IT desk for each of its schools): they
share its topic and its one subscription (SNS subscribes an endpoint once per topic). The registry
item `ALERTS#<digest>` lists the tenants using an address: the last one to leave unsubscribes it
(the empty topic stays: deleting it could race a tenant subscribing the address again). Subscribing
comes before the settings name the address (an address in the settings has a subscription);
releasing the previous one comes after, best effort (if it fails, that address merely keeps an idle
subscription). SNS e-mails the address a confirmation link first: no alert reaches it before
someone follows the link. An SNS quota reached answers 503, naming `alert_email`, and logs an error.
"""

from __future__ import annotations

from hashlib import blake2b

from aws_lambda_powertools import Logger

from msglog import keys
from msglog.config import config
from msglog.errors import FieldError, Unavailable, invalid
from msglog.models import AlertAddress, TenantSettings

logger = Logger(child=True)
# SNS's answers when a quota is reached: topics per account, subscriptions per topic (and its throttle)
QUOTA_ERRORS = frozenset({"TopicLimitExceeded", "SubscriptionLimitExceeded", "FilterPolicyLimitExceeded", "Throttled"})
TOPIC_KEY = "alias/aws/sns"  # SSE; the publishers are this account's functions, which this key lets in
_TYPED = AlertAddress.type.set(AlertAddress)  # an update may create the item: give it its item type


def tag(address: str) -> str:
    """The address as its topic's name and the registry know it: a digest, never the address."""
    return blake2b(address.strip().lower().encode(), digest_size=12).hexdigest()


def topic_name(address: str) -> str:
    return f"{config().alert_topic_prefix}{tag(address)}"


def topic_arn(address: str) -> str:
    """The address's topic: in the operators' topic's account and region."""
    return f"{config().alerts_topic_arn.rpartition(':')[0]}:{topic_name(address)}"


def readdress(tenant: str, current: TenantSettings, address: str | None) -> tuple[str, str | None] | None:
    """Subscribe `address` (a new alert address about to be saved on `current`) and note its
    subscription on `current`. Returns the previous (address, subscription) to `release` once the
    settings are saved, or None when nothing is to be released."""
    if not address or (current.alert_email and tag(current.alert_email) == tag(address)
                       and current.alert_subscription_arn):
        return None  # unchanged (case aside), and subscribed already
    previous = current.alert_email, current.alert_subscription_arn
    new = not (current.alert_email and tag(current.alert_email) == tag(address))
    current.alert_subscription_arn = _subscribe(tenant, address, new=new)
    if previous[0] and tag(previous[0]) != tag(address):
        return previous[0], previous[1]
    return None


def _subscribe(tenant: str, address: str, *, new: bool) -> str:
    """`new`: the tenant's settings do not name this address yet (if refused, it is unlisted again)."""
    from botocore.exceptions import ClientError

    from msglog.aws import client

    digest = tag(address)
    # Listed first, so that a tenant leaving this address at the same moment does not unsubscribe it.
    AlertAddress(keys.alert_address_pk(digest), keys.ALERT_ADDRESS_SK).update(
        actions=[_TYPED, AlertAddress.tenants.add({tenant})])
    sns = client("sns")
    try:
        # Idempotent: the address's topic if it exists already (same name, same attributes).
        topic = sns.create_topic(Name=topic_name(address), Attributes={"KmsMasterKeyId": TOPIC_KEY})["TopicArn"]
        return sns.subscribe(TopicArn=topic, Protocol="email", Endpoint=address.strip().lower(),
                             ReturnSubscriptionArn=True)["SubscriptionArn"]
    except ClientError as error:
        if new:
            _unlist(tenant, digest)
        code = error.response.get("Error", {}).get("Code")
        if code == "InvalidParameter":
            raise invalid("alert_email", "is not an address Amazon SNS can send to") from None
        if code in QUOTA_ERRORS:
            logger.error("alert address refused: an Amazon SNS quota is reached",
                         extra={"tenant_id": tenant, "code": code})
            raise Unavailable("alert_email: the alert address cannot be subscribed now (an Amazon SNS quota of "
                              "this service is reached; its operators are told); the settings are unchanged, "
                              "try again later", [FieldError("alert_email", "cannot be subscribed now")],
                              code="ALERTS_QUOTA") from None
        raise


def _unlist(tenant: str, digest: str) -> None:
    """Best effort: a tenant wrongly listed only keeps the address subscribed after its last user leaves."""
    try:
        AlertAddress(keys.alert_address_pk(digest), keys.ALERT_ADDRESS_SK).update(
            actions=[AlertAddress.tenants.delete({tenant})])
    except Exception:
        logger.warning("a refused alert address could not be unlisted", exc_info=True, extra={"tenant_id": tenant})


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
    """Send one alert: to the tenant's alert address (if it has one), through its topic, and to the
    operators' topic, whose subscribers may filter on `tenant_id`, `provider` or `kind`."""
    from msglog.aws import client

    attributes = {name: {"DataType": "String", "StringValue": value}
                  for name, value in {"tenant_id": tenant, "provider": provider, "kind": kind}.items()}
    sns = client("sns")
    if alert_email:  # first: if the operators' copy then fails, the retry repeats the alert rather than lose it
        sns.publish(TopicArn=topic_arn(alert_email), Subject=subject[:100], Message=text, MessageAttributes=attributes)
    return sns.publish(TopicArn=config().alerts_topic_arn, Subject=subject[:100], Message=text,
                       MessageAttributes=attributes)["MessageId"]
