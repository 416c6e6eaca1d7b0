"""The providers' own suppression lists: whether a provider holds an address (GET
/v1/suppressions/{address}?refresh=true puts it on ours too), and taking it off theirs when it is reset
here (DELETE /v1/suppressions/{address}), saying per provider what happened.

Asked: each provider the tenant gave API credentials for (msglog.provider_apis: Mailgun's bounces,
unsubscribes and complaints; SendGrid's bounces, spam reports, global and group unsubscribes; Postmark's
suppressions of the tenant's message stream (hard bounces, spam complaints, unsubscribes; a spam
complaint's cannot be deleted: "not possible", said why); SES's account-level list, for a tenant that
takes SES's events, asked with the service's own role: SES has no API credentials of the tenant). E-mail
addresses go to the e-mail providers; a phone number to Twilio, which has no API for a STOP (only the
recipient's START lifts it). Bounded like a refresh: a provider that fails is reported, the others still answer.
"""

from __future__ import annotations

from typing import Any

from msglog import provider_apis, suppressions, tenants
from msglog.auth import Caller
from msglog.errors import NotFound
from msglog.provider_apis import Budget, BudgetSpent, CannotRelease, ProviderApiError
from msglog.provider_apis import ses as ses_api
from msglog.provider_apis import twilio as twilio_api

EMAIL_PROVIDERS = ("mailgun", "postmark", "sendgrid")
MAX_CALLS, MAX_SECONDS = 30, 15.0


def _providers(tenant: str, address: str) -> list[str]:
    """The providers to ask about `address`: those the tenant gave API credentials for, by channel, and SES
    when the tenant takes SES's events (its list is the service's account's: no credentials of the tenant)."""
    with_api = {item.provider for item in tenants.configured_apis(tenant)}
    if "@" not in address:
        return ["twilio"] if "twilio" in with_api else []
    uses_ses = any(item.provider == "ses" for item in tenants.configured_providers(tenant))
    return sorted((with_api & set(EMAIL_PROVIDERS)) | ({"ses"} if uses_ses else set()))


def _each(tenant: str, address: str, operation: str) -> list[dict[str, Any]]:
    """Per provider: the reasons it held the address for (and, for delete, took it off), or why it cannot say."""
    budget = Budget(MAX_CALLS, MAX_SECONDS)
    answers: list[dict[str, Any]] = []
    for provider in _providers(tenant, address):
        if provider == "twilio":
            answers.append({"provider": provider, "held": None, "outcome": "not possible",
                            "detail": twilio_api.NO_LIST_API})
            continue
        try:
            api = ses_api if provider == "ses" else provider_apis.module(provider)
            credentials = {} if provider == "ses" else tenants.api_credentials(tenant, provider) or {}
            reasons = (api.release if operation == "delete" else api.held)(credentials, address, budget) \
                if api else []
        except CannotRelease as refusal:  # held, for a reason the provider will not lift through its API
            answers.append({"provider": provider, "held": refusal.held, "outcome": "not possible",
                            "detail": refusal.detail})
            continue
        except ProviderApiError as failure:
            answers.append({"provider": provider, "held": None, "outcome": "failed", "detail": failure.detail})
            continue
        except BudgetSpent:
            answers.append({"provider": provider, "held": None, "outcome": "failed",
                            "detail": "this request's calls or time were used up; try again"})
            continue
        outcome = ("removed" if reasons else "not held") if operation == "delete" else \
            ("held" if reasons else "not held")
        answers.append({"provider": provider, "held": reasons, "outcome": outcome})
    return answers


def lookup(caller: Caller, address: str) -> dict[str, Any]:
    """GET /v1/suppressions/{address}?refresh=true: ask the providers, put what they hold on our list, then
    answer our entry with each provider's answer (404 naming who was asked when no one holds it)."""
    caller.require("suppressions:read", "suppressions:write")
    answers = _each(caller.tenant, address, "get")
    for answer in answers:
        for reason in answer["held"] or []:
            suppressions.add_held(caller.tenant, address, answer["provider"], reason)
            break  # the first reason is the entry's (as for events)
    try:
        entry = suppressions.get(caller, address)
    except NotFound:
        asked = ", ".join(f"{a['provider']}: {a['outcome']}" for a in answers) or "no provider API is configured"
        raise NotFound(f"this address is not suppressed (providers asked — {asked})") from None
    return {**entry, "providers": answers}


def reset(caller: Caller, address: str) -> list[dict[str, Any]]:
    """DELETE /v1/suppressions/{address}: off our list, and off each provider's that has an API for it."""
    suppressions.active(caller, address)  # 404 before any provider is asked
    answers = _each(caller.tenant, address, "delete")
    suppressions.reset(caller, address, {a["provider"]: a["outcome"] for a in answers})
    return answers
