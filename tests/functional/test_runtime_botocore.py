"""On Lambda the code runs on the runtime's own botocore, not on the one pyproject.toml pins for the tests.

The layer does not ship an SDK (it would add ~25 MB unzipped to every cold start's path), so the code must
build its clients with whatever botocore the python3.13 runtime bundles, which AWS updates on its own schedule
and which differs by region. botocore refuses an option it does not know (TypeError), so an option added after
the runtime's version breaks every cold start there and nowhere here.

`make test` installs an old botocore (RUNTIME_BOTOCORE in the Makefile) beside the project's venv; the second
test runs the store's real calls on it, in a process of its own, against moto's server.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from murmur.store.dynamo import make_client
from sandbox.moto_server import MotoServer

ROOT = Path(__file__).resolve().parents[2]
RUNTIME_BOTOCORE = ROOT / ".venv-runtime-botocore"


def test_on_our_botocore_account_id_endpoints_stay_off() -> None:
    """Where botocore knows the option (1.37 on), the client still turns the per-call account lookup off."""
    assert make_client("eu-west-1").meta.config.account_id_endpoint_mode == "disabled"


@pytest.fixture
def moto_url() -> Iterator[str]:
    with MotoServer() as moto:
        yield moto.url


# Runs in its own interpreter with the old botocore first on sys.path: the calls the functions make.
PROBE = r"""
import json, sys
import botocore
from murmur.errors import ConflictError
from murmur.store.dynamo import Op, Transactions, make_client, n, s
from murmur.store.parameters import read_parameters

client = make_client("us-east-1")
client.create_table(
    TableName="t", BillingMode="PAY_PER_REQUEST",
    AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
    KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
)
put = Op(
    {"Put": {"TableName": "t", "Item": {"pk": s("a"), "v": n(1)}, "ConditionExpression": "attribute_not_exists(pk)"}},
    on_condition_failed=lambda: ConflictError("exists"),
)
Transactions(client).write([put], token="probe-1")
try:
    Transactions(client).write_one(put)
    conflict = None
except ConflictError as error:
    conflict = str(error)
item = client.get_item(TableName="t", Key={"pk": s("a")}, ConsistentRead=True)["Item"]
print(json.dumps({
    "botocore": botocore.__version__,
    "file": botocore.__file__,
    "item": item,
    "conflict": conflict,
    "parameters": read_parameters(
        ["/murmur/bot-token", "/murmur/site-url"], "us-east-1", optional=["/murmur/site-url"]
    ),
}))
"""


def test_the_store_runs_on_the_runtime_botocore(moto_url: str) -> None:
    installed = sorted(RUNTIME_BOTOCORE.glob("botocore-*.dist-info"))
    if not installed:
        pytest.skip(
            f"no runtime botocore in {RUNTIME_BOTOCORE.name}: `make test` (or `make runtime-botocore`) installs it"
        )
    version = installed[0].name.removeprefix("botocore-").removesuffix(".dist-info")
    import boto3

    boto3.client(
        "ssm", endpoint_url=moto_url, region_name="us-east-1", aws_access_key_id="k", aws_secret_access_key="s"
    ).put_parameter(Name="/murmur/bot-token", Value="1:tok", Type="SecureString", Overwrite=True)  # moto is per process
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONPATH": os.pathsep.join([str(RUNTIME_BOTOCORE), str(ROOT / "src")]),
        "AWS_ACCESS_KEY_ID": "k",
        "AWS_SECRET_ACCESS_KEY": "s",
        "AWS_ENDPOINT_URL_DYNAMODB": moto_url,
        "AWS_ENDPOINT_URL_SSM": moto_url,
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    }
    done = subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    seen = json.loads(done.stdout)
    assert seen["botocore"] == version and seen["file"].startswith(str(RUNTIME_BOTOCORE))
    assert seen["item"] == {"pk": {"S": "a"}, "v": {"N": "1"}}
    assert seen["conflict"] == "exists"
    assert seen["parameters"] == {"/murmur/bot-token": "1:tok"}
