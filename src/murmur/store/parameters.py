"""SSM parameters (the bot token and secrets as SecureStrings, the site URL), read once per container."""

from __future__ import annotations

from collections.abc import Sequence

from murmur.store.dynamo import botocore_session


def read_parameters(names: Sequence[str], region: str) -> dict[str, str]:
    """Every parameter a container needs, in one GetParameters call (up to 10 names; SecureStrings are
    decrypted): one round trip on the cold start instead of one per secret."""
    client = botocore_session().create_client("ssm", region_name=region)
    answer = client.get_parameters(Names=list(names), WithDecryption=True)
    missing = answer.get("InvalidParameters") or []
    if missing:
        raise RuntimeError(f"SSM parameters not found: {', '.join(sorted(missing))}")
    return {str(p["Name"]): str(p["Value"]) for p in answer["Parameters"]}
