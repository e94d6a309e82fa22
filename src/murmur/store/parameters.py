"""SSM SecureString parameters (the bot token and secrets on AWS), read once per container."""

from __future__ import annotations

import boto3


def read_secure_parameter(name: str, region: str) -> str:
    client = boto3.client("ssm", region_name=region)
    value: str = client.get_parameter(Name=name, WithDecryption=True)["Parameter"]["Value"]
    return value
