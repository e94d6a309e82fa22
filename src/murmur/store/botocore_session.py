"""The process's one botocore session, with a data loader told which services exist: the one place that reaches
into botocore's loader (`botocore.loaders.Loader`, swapped in through `register_component`, neither of which
botocore documents as public).

Before loading any model, botocore checks the name against `Loader.list_available_services`, which walks every
service directory botocore ships (about 420 directories, 2,700 stat calls: ~20 ms of each cold start, measured in
bench/). Here that list is the two services this code calls. Models are still loaded from botocore's own data, and
a name outside SERVICES is still refused. tests/unit/test_library_internals.py checks the behaviour relied on, and
fails when the botocore installed differs from CHECKED_WITH, so an upgrade makes someone look here first; the
runtime's older botocore on Lambda is exercised by tests/functional/test_runtime_botocore.py."""

from __future__ import annotations

import functools
from typing import Any

import botocore.loaders
import botocore.session

CHECKED_WITH = "1.44.18"  # botocore, as boto3 (pinned in pyproject.toml) brings it
# The only AWS services this code calls (DynamoDB, and SSM for secrets on a cold start).
SERVICES = ("dynamodb", "ssm")


class KnownServicesLoader(botocore.loaders.Loader):
    """botocore's data loader, with the list of services it would walk the disk for given instead."""

    def list_available_services(self, type_name: str) -> list[str]:
        return sorted(SERVICES)


@functools.cache
def botocore_session() -> Any:
    """One session per process: it caches the service models that every client would load again."""
    session = botocore.session.get_session()
    session.register_component("data_loader", KnownServicesLoader())
    return session
