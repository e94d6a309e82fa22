"""SSM SecureString parameters (the bot token and secrets on AWS), read once per container."""

from __future__ import annotations

from murmur.store.dynamo import botocore_session


def read_secure_parameter(name: str, region: str) -> str:
    client = botocore_session().create_client("ssm", region_name=region)
    value: str = client.get_parameter(Name=name, WithDecryption=True)["Parameter"]["Value"]
    return value
