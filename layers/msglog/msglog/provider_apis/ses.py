"""Amazon SES's account-level suppression list (SES has no events API: its events come only through SNS).

Source: Amazon SES API v2 reference — GetSuppressedDestination (GET
/v2/email/suppression/addresses/{EmailAddress}: `SuppressedDestination.Reason` BOUNCE or COMPLAINT;
NotFoundException when the address is not on the list) and DeleteSuppressedDestination (DELETE of the same
path). Called with boto3's `sesv2` client under the function's own role (no tenant credentials): the list
asked is the one of the account and region the service runs in. Both actions take no resource ARN (AWS
Service Authorization Reference, "Amazon Simple Email Service v2"), so the role grants them on "*".
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from msglog.aws import calling_once
from msglog.provider_apis import DEFAULT_RETRY_AFTER, Budget, NotAllowed, ProviderFailed, RateLimited

NAME = "ses"
REASONS = {"BOUNCE": "bounce", "COMPLAINT": "complaint"}


def _ask(operation: str, address: str, budget: Budget) -> dict[str, Any] | None:
    """One sesv2 call: its answer, or None when SES says the address is not on the list."""
    budget.spend()
    try:
        return dict(getattr(calling_once("sesv2"), operation)(EmailAddress=address))
    except ClientError as error:
        status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        code = error.response.get("Error", {}).get("Code", "")
        if code == "NotFoundException" or status == 404:
            return None
        if code == "TooManyRequestsException" or status == 429:
            raise RateLimited(NAME, DEFAULT_RETRY_AFTER) from None  # SES sends no Retry-After
        if status in (401, 403) or code.startswith("AccessDenied"):
            raise NotAllowed(NAME, f"SES refused the service's role ({code or status})", status) from None
        raise ProviderFailed(NAME, f"SES answered {code or status}", status) from None
    except BotoCoreError as error:  # timeouts, refused connections
        raise ProviderFailed(NAME, f"no answer ({type(error).__name__})") from None


def held(credentials: dict[str, Any], address: str, budget: Budget) -> list[str]:
    found = _ask("get_suppressed_destination", address, budget)
    if found is None:
        return []
    reason = (found.get("SuppressedDestination") or {}).get("Reason")
    return [REASONS.get(str(reason), "bounce")]


def release(credentials: dict[str, Any], address: str, budget: Budget) -> list[str]:
    """Take the address off the account's list: the reasons it was held for ([] when it was not)."""
    reasons = held(credentials, address, budget)
    if reasons and _ask("delete_suppressed_destination", address, budget) is None:
        return []  # gone between the two calls
    return reasons
