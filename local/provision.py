"""Creates template.yaml's resources in moto, from their CloudFormation properties.

The table (keys, indexes, TTL), the KMS key and alias, the cursor-signing secret, the buckets, the topic, the queues:
whatever the template declares, so a change there changes the local stack and the tests with it.
"""

from __future__ import annotations

import json
import secrets
from typing import Any

from local.template import ACCOUNT_ID, REGION, STACK_NAME, parameters, resolve, resources


def physical_name(logical_id: str) -> str:
    """As CloudFormation names a resource (a FIFO queue's name must end in `.fifo`)."""
    fifo = resources().get(logical_id, {}).get("Properties", {}).get("FifoQueue")
    return f"{STACK_NAME}-{logical_id}" + (".fifo" if fifo else "")


def _table(client: Any, name: str, props: dict[str, Any]) -> str:
    args: dict[str, Any] = {
        "TableName": name,
        "KeySchema": props["KeySchema"],
        "AttributeDefinitions": props["AttributeDefinitions"],
        "BillingMode": props.get("BillingMode", "PROVISIONED"),
    }
    if props.get("GlobalSecondaryIndexes"):
        args["GlobalSecondaryIndexes"] = props["GlobalSecondaryIndexes"]
    if props.get("StreamSpecification"):
        args["StreamSpecification"] = {"StreamEnabled": True, **props["StreamSpecification"]}
    client.create_table(**args)
    client.get_waiter("table_exists").wait(TableName=name)
    if ttl := props.get("TimeToLiveSpecification"):
        client.update_time_to_live(TableName=name, TimeToLiveSpecification=ttl)
    return name


_QUEUE_ATTRIBUTES = ("VisibilityTimeout", "MessageRetentionPeriod", "DelaySeconds", "ReceiveMessageWaitTimeSeconds",
                     "MaximumMessageSize", "SqsManagedSseEnabled", "FifoQueue", "ContentBasedDeduplication",
                     "DeduplicationScope", "FifoThroughputLimit")


def _queue(client: Any, logical_id: str, name: str, props: dict[str, Any]) -> dict[str, str]:
    attributes = {key: str(props[key]).lower() if isinstance(props[key], bool) else str(props[key])
                  for key in _QUEUE_ATTRIBUTES if key in props}
    if redrive := props.get("RedrivePolicy"):  # moto moves a message after maxReceiveCount receives, as SQS does
        attributes["RedrivePolicy"] = json.dumps(redrive)
    url = client.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
    arn = f"arn:aws:sqs:{REGION}:{ACCOUNT_ID}:{name}"
    return {logical_id: url, f"{logical_id}.Arn": arn, f"{logical_id}.QueueName": name, f"{logical_id}.QueueUrl": url}


def _creation_order(items: list[tuple[str, dict[str, Any]]]) -> list[tuple[str, dict[str, Any]]]:
    """A queue with a redrive policy after the dead-letter queue it names (template order otherwise)."""
    return sorted(items, key=lambda item: item[1]["Type"] == "AWS::SQS::Queue"
                  and "RedrivePolicy" in item[1].get("Properties", {}))


def create(session: Any, overrides: dict[str, str] | None = None) -> dict[str, str]:
    """Create every supported resource; returns Ref/GetAtt values by logical id (and id.Attr)."""
    params = parameters(overrides=overrides)
    refs: dict[str, str] = {}
    for logical_id, resource in _creation_order(list(resources().items())):
        kind, props = resource["Type"], resource.get("Properties", {})
        name = physical_name(logical_id)
        if kind == "AWS::DynamoDB::Table":
            refs[logical_id] = _table(session.client("dynamodb"), name, props)
            refs[f"{logical_id}.Arn"] = f"arn:aws:dynamodb:{REGION}:{ACCOUNT_ID}:table/{name}"
        elif kind == "AWS::KMS::Key":
            key = session.client("kms").create_key(Description=props.get("Description", logical_id))["KeyMetadata"]
            refs[logical_id], refs[f"{logical_id}.Arn"] = key["KeyId"], key["Arn"]
        elif kind == "AWS::KMS::Alias":
            alias = resolve(props["AliasName"], refs, params)
            session.client("kms").create_alias(AliasName=alias, TargetKeyId=resolve(props["TargetKeyId"], refs, params))
            refs[logical_id] = alias
        elif kind == "AWS::SecretsManager::Secret":
            generate = props.get("GenerateSecretString", {})
            value = props.get("SecretString") or secrets.token_urlsafe(generate.get("PasswordLength", 32))
            arn = session.client("secretsmanager").create_secret(Name=name, SecretString=value)["ARN"]
            refs[logical_id], refs[f"{logical_id}.Arn"] = name, arn
        elif kind == "AWS::S3::Bucket":
            bucket = name.lower()  # bucket names are lower-case
            session.client("s3").create_bucket(Bucket=bucket)
            if versioning := props.get("VersioningConfiguration"):  # deletes leave the old version, as in AWS
                session.client("s3").put_bucket_versioning(Bucket=bucket, VersioningConfiguration=versioning)
            refs[logical_id], refs[f"{logical_id}.Arn"] = bucket, f"arn:aws:s3:::{bucket}"
        elif kind == "AWS::SNS::Topic":  # Ref is the topic's ARN
            key = resolve(props.get("KmsMasterKeyId"), refs, params)  # an alias, or a key of the template
            attributes = {"KmsMasterKeyId": key} if key else {}
            arn = session.client("sns").create_topic(Name=name, Attributes=attributes)["TopicArn"]
            refs[logical_id], refs[f"{logical_id}.TopicArn"], refs[f"{logical_id}.TopicName"] = arn, arn, name
        elif kind == "AWS::SQS::Queue":  # Ref is the queue's URL
            refs.update(_queue(session.client("sqs"), logical_id, name, resolve(props, refs, params)))
        elif kind == "AWS::Logs::LogGroup":
            refs[logical_id], refs[f"{logical_id}.Arn"] = name, f"arn:aws:logs:{REGION}:{ACCOUNT_ID}:log-group:{name}"
    return refs


def function_environment(function_env: dict[str, Any], refs: dict[str, str],
                         overrides: dict[str, str] | None = None) -> dict[str, str]:
    params = parameters(overrides=overrides)
    return {name: str(resolve(value, refs, params)) for name, value in function_env.items()}
