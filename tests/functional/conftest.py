"""The local stack (moto server, fake Bot API, HTTP API emulator, real handlers) shared by a module."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from sandbox.local_stack import LocalStack

ALICE, BOB, CARLA, DMITRI = 1001, 1002, 1003, 1004


@pytest.fixture(scope="module")
def module_stack() -> Iterator[LocalStack]:
    with LocalStack() as stack:
        yield stack


@pytest.fixture
def stack(module_stack: LocalStack, request: pytest.FixtureRequest) -> Iterator[LocalStack]:
    module_stack.bot_api.clear()
    seen_logs, seen_denials = len(module_stack.logs), len(module_stack.aws.denials)
    yield module_stack
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        # What CloudWatch and IAM would have shown: the functions' log lines and the denied calls of this test.
        lines = list(module_stack.logs)[seen_logs:][-60:]
        denials = module_stack.aws.denials[seen_denials:]
        report.sections.append(("function logs", "\n".join(f"[{name}] {line}" for name, line in lines)))
        report.sections.append(("IAM denials", "\n".join(map(str, denials)) or "none"))


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


@pytest.fixture(scope="session", autouse=True)
def identity_audit(request: pytest.FixtureRequest) -> Iterator[Any]:
    """Over the whole functional suite: no sender identity in anything addressed to the owner, or in logs."""
    from tests.functional.identity_audit import IdentityAudit

    audit = IdentityAudit()
    audit.install()
    yield audit
    audit.uninstall()
    functional = [i for i in request.session.items if "tests/functional/" in str(i.path)]
    if len(functional) >= 200:
        # On a full run the audit must have seen the traffic, or its silence would mean nothing.
        assert sum(len(s) for s in audit.senders_of.values()) >= 50, "the audit saw too few sends"
        assert len(audit.answers) >= 300 and len(audit.bot_messages) >= 100 and audit.logs
    leaks = audit.leaks()
    assert not leaks, "\n".join(leaks[:20])
