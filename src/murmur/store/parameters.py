"""SSM parameters (the bot token and secrets as SecureStrings, the site URL), read once per container."""

from __future__ import annotations

from collections.abc import Collection, Sequence

from murmur.store.botocore_session import botocore_session


def read_parameters(names: Sequence[str], region: str, optional: Collection[str] = ()) -> dict[str, str]:
    """Every parameter a container needs, in one GetParameters call (up to 10 names; SecureStrings are
    decrypted): one round trip on the cold start instead of one per secret. A name in `optional` that does
    not exist (yet) is left out of the answer; any other missing name is an error that names it."""
    client = botocore_session().create_client("ssm", region_name=region)
    answer = client.get_parameters(Names=list(names), WithDecryption=True)
    missing = set(answer.get("InvalidParameters") or []) - set(optional)
    if missing:
        raise RuntimeError(f"SSM parameters not found: {', '.join(sorted(missing))}")
    return {str(p["Name"]): str(p["Value"]) for p in answer["Parameters"]}
