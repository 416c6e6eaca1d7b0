"""Issue 20, item 2: whatever a provider puts in any field, an event is either refused as malformed (a
400 naming the field; in a batch, that item alone) or every text field it would store is bounded —
so DynamoDB never refuses its item, and a provider's retry never meets a permanent 500."""

from __future__ import annotations

import copy
import json
from dataclasses import fields

import pytest

from msglog.errors import BadRequest
from msglog.providers import ProviderEvent, mailgun, postmark, sendgrid, ses, twilio
from tests.support import vectors

LONG = "x" * 20_000
MOST = 1000  # characters of the longest stored text field of an event (a reason)
SES = vectors("ses_sns")["ses_event_publishing_samples"]["events"]
SAMPLES = {
    **{f"mailgun {name}": (mailgun.normalize, data) for name, data in vectors("mailgun")["event_data_samples"].items()
       if isinstance(data, dict)},
    **{f"sendgrid {n}": (sendgrid.normalize, data)
       for n, data in enumerate(vectors("sendgrid")["sample_event_batch"]["events"])},
    **{f"postmark {s['id']}": (postmark.normalize, s["body"]) for s in vectors("postmark")["samples"]},
    **{f"ses {name}": (lambda record: ses.normalize({"MessageId": "m-1", "Message": json.dumps(record)}), record)
       for name, record in SES.items()},
    **{f"twilio {n}": (lambda params: twilio.normalize(params, {}), s["params"])
       for n, s in enumerate(vectors("twilio")["status_callback_samples"])},
}


def leaves(value, path=()):
    """The path of every value that is not a container."""
    if isinstance(value, dict):
        return [p for key, item in value.items() for p in leaves(item, (*path, key))]
    if isinstance(value, list):
        return [p for index, item in enumerate(value) for p in leaves(item, (*path, index))]
    return [path]


def with_long(data, path):
    changed = copy.deepcopy(data)
    target = changed
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = LONG
    return changed


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_no_provider_field_makes_an_unbounded_stored_field(name):
    normalize, data = SAMPLES[name]
    for path in leaves(data):
        try:
            result = normalize(with_long(data, path))
        except BadRequest as refused:
            assert refused.errors, path  # a refusal names the field
            continue
        for event in result if isinstance(result, list) else [result]:
            assert isinstance(event, ProviderEvent)
            texts = {f.name: getattr(event, f.name) for f in fields(event) if isinstance(getattr(event, f.name), str)}
            texts |= {f"extra.{k}": v for k, v in event.extra.items()}
            assert {k: len(v) for k, v in texts.items() if len(v) > MOST} == {}, path


def test_a_refusal_names_the_providers_field():
    data = next(d for d in vectors("sendgrid")["sample_event_batch"]["events"] if d.get("event") == "bounce")
    with pytest.raises(BadRequest) as refused:
        sendgrid.normalize({**data, "type": LONG}, 3)
    assert [e.field for e in refused.value.errors] == ["[3].type"]
