"""An AWS endpoint on loopback that is as strict as AWS, in front of moto.

moto stores DynamoDB tables and SSM parameters faithfully but accepts every caller and runs requests
concurrently without DynamoDB's isolation. Code that passes against bare moto can therefore fail on AWS:
a function whose role lacks `dynamodb:BatchGetItem`, two transactions on one hot item, a batch of 26
writes. `StrictAws` sits between the functions and moto and adds what AWS does and moto does not:

- IAM: each function gets its own access key (`credentials(logical_id)`); every DynamoDB and SSM request
  is authorized against that function's statements in the template, action by action and resource by
  resource as IAM would, and refused with AWS's own AccessDeniedException otherwise. The SigV4 signature
  itself is not verified: the access key only identifies the caller (all callers are local code).
- Isolation: DynamoDB requests reach moto one at a time (DynamoDB applies each request atomically; moto's
  threaded server does not, and its transactions deep-copy tables other threads are changing).
- Transaction conflicts: a TransactWriteItems stays in flight for `transaction_seconds`; a transaction
  that touches one of its items is cancelled (TransactionConflict), a single-item write to one of its
  items fails with TransactionConflictException, a BatchWriteItem gets such writes back as
  UnprocessedItems, and reads see the state before the transaction commits.
- Limits moto does not enforce: 25 writes per BatchWriteItem and no duplicate keys in it, 4 MB per
  transaction, 400 KB per written item as DynamoDB counts it (moto's own count leaves out the list and
  map overheads).
- Throttling and server errors on demand (`inject`), in DynamoDB's wire format, to test retries.

What is still kinder (or harsher) than AWS is listed in `KNOWN_GAPS`.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import json
import re
import socket
import threading
import time
import uuid
import zlib
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from http.client import HTTPConnection, HTTPSConnection
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Final, NamedTuple
from urllib.parse import urlsplit

from sandbox.cfn import CfnResolver
from sandbox.iam import (
    Statement,
    UnsupportedRequest,
    decide,
    dynamodb_authorizations,
    function_policies,
    ssm_authorizations,
    table_name,
)
from sandbox.lifecycle import Service
from sandbox.tables import load_template

__all__ = ["FAULT_CODES", "KNOWN_GAPS", "Denial", "StrictAws", "dynamodb_item_size"]

ACCOUNT_ID: Final = "123456789012"
MAX_ITEM_BYTES: Final = 400 * 1024
MAX_TRANSACTION_BYTES: Final = 4 * 1024 * 1024
MAX_BATCH_WRITES: Final = 25

KNOWN_GAPS: Final = (
    "SigV4 signatures and session tokens are not verified; the access key id alone names the caller.",
    "kms:Decrypt for SSM SecureStrings is not authorized (moto decrypts without KMS).",
    "Only dynamodb and ssm are served; any other service is refused with StrictAwsUnsupportedService.",
    "PartiQL (ExecuteStatement, BatchExecuteStatement, ExecuteTransaction) is refused, not authorized.",
    "IAM condition keys of the request (dynamodb:LeadingKeys, dynamodb:Attributes, ...) are not supplied;"
    " a statement conditioned on them never matches.",
    "UpdateItem's resulting item size is left to moto, which counts without list/map overheads"
    " and stops at 405,000 bytes.",
    "moto counts binary values by their base64 length and refuses items above 405,000 bytes: harsher than AWS.",
    "moto caps TransactGetItems at 25 items; AWS allows 100.",
    "TransactGetItems does not hold its items: a write during it never cancels it.",
    "Throttling happens only when injected; there is no capacity model.",
    "A BatchWriteItem write to an item held by a transaction is returned in UnprocessedItems; AWS documents"
    " conflicts for single writes and transactions only, so this choice is an assumption.",
    "The text of the 4 MB transaction ValidationException is not AWS's verbatim wording.",
    "ClientRequestToken idempotency of TransactWriteItems is left to moto.",
)

FAULT_CODES: Final[Mapping[str, tuple[int, str, str]]] = {
    "ThrottlingException": (
        400,
        "com.amazon.coral.availability#ThrottlingException",
        "Rate of requests exceeds the allowed throughput.",
    ),
    "ProvisionedThroughputExceededException": (
        400,
        "com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException",
        "Throughput exceeds the current capacity of your table or index. DynamoDB is automatically scaling your"
        " table or index so please try again shortly. If exceptions persist, check if you have a hot key:"
        " https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/bp-partition-key-design.html",
    ),
    "RequestLimitExceeded": (
        400,
        "com.amazonaws.dynamodb.v20120810#RequestLimitExceeded",
        "Throughput exceeds the current throughput limit for your account. Please contact AWS Support at"
        " https://aws.amazon.com/support request a limit increase",
    ),
    "InternalServerError": (500, "com.amazonaws.dynamodb.v20120810#InternalServerError", "Internal server error"),
}

_CONTENT_TYPES: Final = {"dynamodb": "application/x-amz-json-1.0", "ssm": "application/x-amz-json-1.1"}
_CREDENTIAL = re.compile(r"Credential=([^/,\s]+)/\d{8}/([^/,\s]+)/([^/,\s]+)/aws4_request")
_HOP_BY_HOP: Final = frozenset(
    {"connection", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade", "host"}
)
_TRANSACTION_CONFLICT: Final = "Transaction is ongoing for the item"
_DYNAMODB: Final = "com.amazonaws.dynamodb.v20120810#"

# A DynamoDB item's identity for conflicts: (table name, canonical JSON of its key attributes).
ItemKey = tuple[str, str]


class Denial(NamedTuple):
    """A request the strict endpoint refused for lack of permission; equal to its plain tuple."""

    logical_id: str
    action: str
    resource: str


@dataclass(frozen=True)
class _Reply:
    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes


@dataclass
class _Fault:
    operation: str
    code: str
    remaining: int
    table: str | None
    function: str | None = None


@dataclass(frozen=True)
class _Request:
    method: str
    path: str
    headers: tuple[tuple[str, str], ...]
    body: bytes
    logical_id: str
    region: str
    service: str
    target: str

    @property
    def operation(self) -> str:
        return self.target.rsplit(".", 1)[-1]


class _AwsError(Exception):
    """An answer in the service's JSON error shape; raised anywhere while a request is handled."""

    def __init__(
        self, status: int, error_type: str, message: str, *, message_key: str = "message", **extra: Any
    ) -> None:
        super().__init__(message)
        self.status = status
        self.error_type = error_type
        self.message = message
        self.message_key = message_key
        self.extra = extra


def _validation(message: str) -> _AwsError:
    return _AwsError(400, "com.amazon.coral.validate#ValidationException", message)


class StrictAws(Service):
    """`with StrictAws(template, upstream=moto_url, stack_name=..., physical_ids=...) as aws:` then point a
    function's boto3 clients at `aws.url` with `aws.credentials(logical_id)`.

    `physical_ids` maps the template's logical ids to the names the sandbox gave them (every table the
    policies name must be there). `dynamodb_upstream` serves DynamoDB if given, `upstream` everything else.
    """

    def __init__(
        self,
        template_path: Path,
        *,
        upstream: str,
        dynamodb_upstream: str | None = None,
        stack_name: str,
        physical_ids: Mapping[str, str],
        parameter_values: Mapping[str, str] | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        transaction_seconds: float = 0.02,
        region: str = "us-east-1",
        account_id: str = ACCOUNT_ID,
    ) -> None:
        self.template_path = Path(template_path)
        self.upstream = upstream.rstrip("/")
        self.dynamodb_upstream = (dynamodb_upstream or upstream).rstrip("/")
        self.stack_name = stack_name
        self.account_id = account_id
        self.transaction_seconds = transaction_seconds
        self._host = host
        self._port = port
        template = load_template(self.template_path)
        resolver = CfnResolver(
            template,
            stack_name=stack_name,
            region=region,
            account_id=account_id,
            physical_ids=physical_ids,
            parameter_values=parameter_values or {},
        )
        self.policies: dict[str, list[Statement]] = function_policies(template, resolver)
        self._principals = {
            logical_id: _principal_arn(template, resolver, logical_id, stack_name, physical_ids, account_id)
            for logical_id in self.policies
        }
        self._keys = {self.credentials(logical_id)[0]: logical_id for logical_id in self.policies}
        self._dynamodb_lock = threading.Lock()
        self._state_lock = threading.Lock()
        self._in_flight: dict[ItemKey, int] = {}
        self._key_schemas: dict[tuple[str, str], tuple[str, ...]] = {}
        self._faults: list[_Fault] = []
        # How many requests were refused for a transaction conflict (tests show the races really happened).
        self.conflicts = 0
        self._denials: list[Denial] = []
        self._operations: Counter[tuple[str, str]] = Counter()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> None:
        if self._server is not None:
            raise RuntimeError("this StrictAws is already started")
        self._server = _Server((self._host, self._port), _Handler, self)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="strict-aws", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        """Stop serving and close the listening socket; safe to call twice."""
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.close_connections()
            server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("StrictAws is not started")
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    # ------------------------------------------------------------------ identities and test hooks

    def credentials(self, logical_id: str) -> tuple[str, str]:
        """(access key id, secret) naming the function's role; stable for a stack name and logical id."""
        if logical_id not in self.policies:
            raise KeyError(f"{logical_id!r} is not an AWS::Serverless::Function of the template")
        digest = hashlib.sha256(f"{self.stack_name}/{logical_id}".encode()).digest()
        access_key = "ASIA" + base64.b32encode(digest[:10]).decode("ascii")[:16]
        secret = base64.b64encode(hashlib.sha256(digest + b"secret").digest()).decode("ascii")[:40]
        return access_key, secret

    @property
    def denials(self) -> list[Denial]:
        """Every (logical_id, action, resource) refused so far, oldest first."""
        with self._state_lock:
            return list(self._denials)

    def operations(self) -> Counter[tuple[str, str]]:
        """How many DynamoDB requests each (logical id, operation) made that IAM allowed, injected faults
        included: a test takes one count before an action and one after, and reads what the action cost."""
        with self._state_lock:
            return Counter(self._operations)

    def in_flight(self) -> list[tuple[str, str]]:
        """(table, key as canonical JSON) of every item a TransactWriteItems holds right now."""
        with self._state_lock:
            return sorted(self._in_flight)

    def inject(
        self, operation: str, code: str, *, times: int = 1, table: str | None = None, function: str | None = None
    ) -> None:
        """Make the next `times` DynamoDB requests of `operation` ("*" for any), optionally only those that
        touch `table` (name or ARN) or that `function` (a logical id) makes, fail with `code` after they pass
        IAM, as DynamoDB would answer."""
        if code not in FAULT_CODES:
            raise ValueError(f"unknown fault {code!r}; choose from {sorted(FAULT_CODES)}")
        if times < 1:
            raise ValueError("times must be at least 1")
        with self._state_lock:
            self._faults.append(_Fault(operation, code, times, table_name(table) if table else None, function))

    def clear_injected(self) -> None:
        with self._state_lock:
            self._faults.clear()

    # ------------------------------------------------------------------ request handling

    def handle(self, method: str, path: str, headers: tuple[tuple[str, str], ...], body: bytes) -> _Reply:
        """One HTTP request in, one HTTP answer out (what the handler thread sends back)."""
        authorization = next((v for k, v in headers if k.lower() == "authorization"), None)
        target = next((v for k, v in headers if k.lower() == "x-amz-target"), "") or ""
        match = _CREDENTIAL.search(authorization or "")
        service = match.group(3) if match else ("ssm" if target.startswith("AmazonSSM.") else "dynamodb")
        content_type = _CONTENT_TYPES.get(service, "application/x-amz-json-1.0")
        try:
            if match is None:
                raise _AwsError(
                    400,
                    "com.amazon.coral.service#MissingAuthenticationTokenException",
                    "Request is missing Authentication Token",
                )
            logical_id = self._keys.get(match.group(1))
            if logical_id is None:
                raise _AwsError(
                    400,
                    "com.amazon.coral.service#UnrecognizedClientException",
                    "The security token included in the request is invalid.",
                )
            if service not in _CONTENT_TYPES:
                raise _AwsError(
                    400,
                    "StrictAwsUnsupportedService",
                    f"the strict local AWS endpoint serves dynamodb and ssm, not {service!r}",
                )
            request = _Request(method, path, headers, body, logical_id, match.group(2), service, target)
            if service == "ssm":
                return self._ssm(request)
            return self._dynamodb(request)
        except _AwsError as error:
            return _error_reply(error, content_type, with_crc=service == "dynamodb")

    def _authorize(self, request: _Request, parsed: Mapping[str, Any]) -> None:
        try:
            if request.service == "ssm":
                pairs = ssm_authorizations(request.target, parsed, request.region, self.account_id)
            else:
                pairs = dynamodb_authorizations(request.target, parsed, request.region, self.account_id)
        except (KeyError, TypeError, AttributeError) as error:
            raise _validation(f"malformed {request.operation} request: {error!r}") from None
        except UnsupportedRequest as error:
            raise _AwsError(400, "StrictAwsUnsupportedOperation", str(error)) from None
        statements = self.policies[request.logical_id]
        for action, resource in pairs:
            verdict = decide(statements, action, resource, self._context(request))
            if verdict == "Allow":
                continue
            with self._state_lock:
                self._denials.append(Denial(request.logical_id, action, resource))
            reason = (
                "with an explicit deny in an identity-based policy"
                if verdict == "ExplicitDeny"
                else f"because no identity-based policy allows the {action} action"
            )
            raise _AwsError(
                400,
                "com.amazon.coral.service#AccessDeniedException",
                f"User: {self._principals[request.logical_id]} is not authorized to perform: {action} "
                f"on resource: {resource} {reason}",
                message_key="Message",
            )

    def _context(self, request: _Request) -> dict[str, str]:
        """Global condition keys every request carries (the SDK talks HTTPS to AWS)."""
        return {
            "aws:SecureTransport": "true",
            "aws:RequestedRegion": request.region,
            "aws:PrincipalAccount": self.account_id,
            "aws:PrincipalArn": self._principals[request.logical_id],
        }

    def _ssm(self, request: _Request) -> _Reply:
        self._authorize(request, _parse_json(request.body))
        return self._forward(self.upstream, request, request.body)

    def _dynamodb(self, request: _Request) -> _Reply:
        body = _parse_json(request.body)
        self._authorize(request, body)
        with self._state_lock:
            self._operations[(request.logical_id, request.operation)] += 1
        self._take_fault(request, body)
        operation = request.operation
        if operation == "TransactWriteItems":
            return self._transact_write(request, body)
        if operation == "TransactGetItems":
            keys = [self._item_key(request, "Get", item.get("Get") or {}) for item in body.get("TransactItems") or []]
            self._refuse_conflicting_transaction(keys)
            return self._forward_dynamodb(request, request.body)
        if operation == "BatchWriteItem":
            return self._batch_write(request, body)
        if operation in ("PutItem", "UpdateItem", "DeleteItem"):
            if operation == "PutItem":
                _check_item_size(body.get("Item") or {})
            kind = {"PutItem": "Put", "UpdateItem": "Update", "DeleteItem": "Delete"}[operation]
            key = self._item_key(request, kind, body)
            with self._state_lock:
                conflict = key is not None and key in self._in_flight
                self.conflicts += conflict
            if conflict:
                raise _AwsError(400, _DYNAMODB + "TransactionConflictException", _TRANSACTION_CONFLICT)
        return self._forward_dynamodb(request, request.body)

    def _take_fault(self, request: _Request, body: Mapping[str, Any]) -> None:
        tables = _tables_of(request.target, body)
        with self._state_lock:
            for fault in self._faults:
                if fault.operation not in ("*", request.operation):
                    continue
                if fault.table is not None and fault.table not in tables:
                    continue
                if fault.function is not None and fault.function != request.logical_id:
                    continue
                fault.remaining -= 1
                if fault.remaining == 0:
                    self._faults.remove(fault)
                status, error_type, message = FAULT_CODES[fault.code]
                raise _AwsError(status, error_type, message)

    # ------------------------------------------------------------------ transactions

    def _transact_write(self, request: _Request, body: Mapping[str, Any]) -> _Reply:
        items = body.get("TransactItems") or []
        total = 0
        keys: list[ItemKey | None] = []
        for item in items:
            if not isinstance(item, dict) or len(item) != 1:
                return self._forward_dynamodb(request, request.body)  # moto answers the shape error
            ((kind, operation_body),) = item.items()
            if kind == "Put":
                total += _check_item_size(operation_body.get("Item") or {})
            else:
                total += _attributes_size(operation_body.get("Key") or {})
                total += sum(_value_size(v) for v in (operation_body.get("ExpressionAttributeValues") or {}).values())
            keys.append(self._item_key(request, kind, operation_body))
        if total > MAX_TRANSACTION_BYTES:
            raise _validation("Transaction request cannot be larger than 4 MB")
        registered = self._hold(keys)
        try:
            time.sleep(self.transaction_seconds)
            return self._forward_dynamodb(request, request.body)
        finally:
            self._release(registered)

    def _hold(self, keys: list[ItemKey | None]) -> list[ItemKey]:
        """Mark the transaction's items as in flight, or cancel it if another transaction holds one of them."""
        with self._state_lock:
            self._raise_if_conflicting(keys)
            held = sorted({key for key in keys if key is not None})
            for key in held:
                self._in_flight[key] = self._in_flight.get(key, 0) + 1
            return held

    def _release(self, keys: Iterable[ItemKey]) -> None:
        with self._state_lock:
            for key in keys:
                remaining = self._in_flight[key] - 1
                if remaining:
                    self._in_flight[key] = remaining
                else:
                    del self._in_flight[key]

    def _refuse_conflicting_transaction(self, keys: list[ItemKey | None]) -> None:
        with self._state_lock:
            self._raise_if_conflicting(keys)

    def _raise_if_conflicting(self, keys: list[ItemKey | None]) -> None:
        """TransactionCanceledException with one reason per item, as DynamoDB reports a conflict."""
        conflicts = [key is not None and key in self._in_flight for key in keys]
        if not any(conflicts):
            return
        self.conflicts += 1
        reasons = [
            {"Code": "TransactionConflict", "Message": _TRANSACTION_CONFLICT} if conflict else {"Code": "None"}
            for conflict in conflicts
        ]
        codes = ", ".join(reason["Code"] for reason in reasons)
        raise _AwsError(
            400,
            _DYNAMODB + "TransactionCanceledException",
            f"Transaction cancelled, please refer cancellation reasons for specific reasons [{codes}]",
            message_key="Message",
            CancellationReasons=reasons,
        )

    # ------------------------------------------------------------------ batch writes

    def _batch_write(self, request: _Request, body: Mapping[str, Any]) -> _Reply:
        request_items: Mapping[str, list[dict[str, Any]]] = body.get("RequestItems") or {}
        for writes in request_items.values():
            if len(writes) > MAX_BATCH_WRITES:
                raise _validation(
                    "1 validation error detected: Value at 'requestItems' failed to satisfy constraint: Map value"
                    " must satisfy constraint: [Member must have length less than or equal to 25, Member must"
                    " have length greater than or equal to 1]"
                )
        if sum(len(writes) for writes in request_items.values()) > MAX_BATCH_WRITES:
            raise _validation("Too many items requested for the BatchWriteItem call")
        keep: dict[str, list[dict[str, Any]]] = {}
        unprocessed: dict[str, list[dict[str, Any]]] = {}
        for table, writes in request_items.items():
            seen: set[ItemKey] = set()
            for write in writes:
                if len(write) != 1:
                    return self._forward_dynamodb(request, request.body)  # moto answers the shape error
                ((kind, write_body),) = write.items()
                if kind == "PutRequest":
                    _check_item_size(write_body.get("Item") or {})
                key = self._item_key(
                    request, "Put" if kind == "PutRequest" else "Delete", {"TableName": table, **write_body}
                )
                if key is not None and key in seen:
                    raise _validation("Provided list of item keys contains duplicates")
                if key is not None:
                    seen.add(key)
                with self._state_lock:
                    conflict = key is not None and key in self._in_flight
                (unprocessed if conflict else keep).setdefault(table, []).append(write)
        if not unprocessed:
            return self._forward_dynamodb(request, request.body)
        # Writes to items held by a transaction come back unprocessed, as writes DynamoDB could not do now.
        if not keep:
            return _json_reply(200, {"UnprocessedItems": unprocessed}, _CONTENT_TYPES["dynamodb"], with_crc=True)
        reply = self._forward_dynamodb(request, json.dumps({**body, "RequestItems": keep}).encode())
        if reply.status != 200:
            return reply
        answer = json.loads(reply.body)
        merged = answer.get("UnprocessedItems") or {}
        for table, writes in unprocessed.items():
            merged.setdefault(table, []).extend(writes)
        answer["UnprocessedItems"] = merged
        return _json_reply(200, answer, _CONTENT_TYPES["dynamodb"], with_crc=True, base=reply)

    # ------------------------------------------------------------------ keys

    def _item_key(self, request: _Request, kind: str, operation_body: Mapping[str, Any]) -> ItemKey | None:
        """The item an operation touches, or None when its table is unknown (moto then answers the error)."""
        table = operation_body.get("TableName")
        if not isinstance(table, str):
            return None
        name = table_name(table)
        if kind == "Put":
            attributes = self._key_attributes(request, name)
            item = operation_body.get("Item") or {}
            if attributes is None or not all(attribute in item for attribute in attributes):
                return None
            key = {attribute: item[attribute] for attribute in attributes}
        else:
            key = operation_body.get("Key") or {}
            if not key:
                return None
        return name, _canonical_key(key)

    def _key_attributes(self, request: _Request, name: str) -> tuple[str, ...] | None:
        """A table's key attribute names, from DescribeTable on the upstream (once per table)."""
        cache_key = (request.region, name)
        with self._state_lock:
            known = self._key_schemas.get(cache_key)
        if known is not None:
            return known
        signing = ("authorization", "x-amz-date", "x-amz-security-token")
        headers = (
            *((key, value) for key, value in request.headers if key.lower() in signing),
            ("X-Amz-Target", "DynamoDB_20120810.DescribeTable"),
            ("Content-Type", _CONTENT_TYPES["dynamodb"]),
        )
        describe = _Request("POST", "/", headers, b"", request.logical_id, request.region, "dynamodb", "")
        reply = self._forward_dynamodb(describe, json.dumps({"TableName": name}).encode())
        if reply.status != 200:
            return None
        schema = json.loads(reply.body)["Table"]["KeySchema"]
        attributes = tuple(entry["AttributeName"] for entry in schema)
        with self._state_lock:
            self._key_schemas[cache_key] = attributes
        return attributes

    # ------------------------------------------------------------------ forwarding

    def _forward_dynamodb(self, request: _Request, body: bytes) -> _Reply:
        with self._dynamodb_lock:
            return self._forward(self.dynamodb_upstream, request, body)

    def _forward(self, upstream: str, request: _Request, body: bytes) -> _Reply:
        """Send the request on as it came (bar hop-by-hop headers) and bring the answer back unchanged."""
        parts = urlsplit(upstream)
        connection_class = HTTPSConnection if parts.scheme == "https" else HTTPConnection
        connection = connection_class(parts.hostname or "127.0.0.1", parts.port, timeout=120)
        try:
            connection.putrequest(request.method, request.path, skip_host=True, skip_accept_encoding=True)
            connection.putheader("Host", parts.netloc)
            for key, value in request.headers:
                if key.lower() not in _HOP_BY_HOP and key.lower() != "content-length":
                    connection.putheader(key, value)
            connection.putheader("Content-Length", str(len(body)))
            connection.endheaders(body)
            response = connection.getresponse()
            data = response.read()
            headers = tuple(
                (key, value)
                for key, value in response.getheaders()
                if key.lower() not in _HOP_BY_HOP and key.lower() != "content-length"
            )
            return _Reply(response.status, headers, data)
        except OSError as error:
            return _json_reply(
                502,
                {"__type": "StrictAwsUpstreamError", "message": f"upstream {upstream} failed: {error}"},
                _CONTENT_TYPES.get(request.service, "application/x-amz-json-1.0"),
                with_crc=False,
            )
        finally:
            connection.close()


# ---------------------------------------------------------------------------------------------- HTTP plumbing


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler], strict: StrictAws) -> None:
        self.strict = strict
        self.connections: set[socket.socket] = set()
        self.connections_lock = threading.Lock()
        super().__init__(address, handler)

    def close_connections(self) -> None:
        """Clients keep connections alive; end them so that no handler thread outlives the server."""
        with self.connections_lock:
            connections = list(self.connections)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two sends: with Nagle's algorithm the body waits for the client's delayed
    # ACK (40 ms on Linux), a stall DynamoDB does not have.
    disable_nagle_algorithm = True

    def setup(self) -> None:
        super().setup()
        with self._strict_server.connections_lock:
            self._strict_server.connections.add(self.connection)

    def finish(self) -> None:
        with self._strict_server.connections_lock:
            self._strict_server.connections.discard(self.connection)
        super().finish()

    @property
    def _strict_server(self) -> _Server:
        assert isinstance(self.server, _Server)
        return self.server

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        try:
            reply = self._strict_server.strict.handle(self.command, self.path, tuple(self.headers.items()), body)
        except Exception as error:  # a bug here must reach the caller as an answer, not a dropped connection
            reply = _json_reply(
                500,
                {"__type": "StrictAwsInternalError", "message": f"{type(error).__name__}: {error}"},
                _CONTENT_TYPES["dynamodb"],
                with_crc=False,
            )
        self.send_response_only(reply.status)
        for key, value in reply.headers:
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(reply.body)))
        self.end_headers()
        self.wfile.write(reply.body)

    do_POST = _serve
    do_GET = _serve
    do_PUT = _serve
    do_DELETE = _serve

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the tests and `make dev` have their own logs."""


def _json_reply(
    status: int, payload: Mapping[str, Any], content_type: str, *, with_crc: bool, base: _Reply | None = None
) -> _Reply:
    body = json.dumps(payload, separators=(",", ":")).encode()
    dropped = {"content-type", "x-amz-crc32"}
    headers = [(k, v) for k, v in (base.headers if base else ()) if k.lower() not in dropped]
    if base is None:
        headers.append(("x-amzn-RequestId", uuid.uuid4().hex.upper()[:52]))
    headers.append(("Content-Type", content_type))
    if with_crc:
        # DynamoDB signs its bodies with a CRC32 that botocore checks.
        headers.append(("x-amz-crc32", str(zlib.crc32(body) & 0xFFFFFFFF)))
    return _Reply(status, tuple(headers), body)


def _error_reply(error: _AwsError, content_type: str, *, with_crc: bool) -> _Reply:
    # Services differ in the key's case (AccessDenied and TransactionCanceled say "Message"); botocore reads both.
    payload: dict[str, Any] = {"__type": error.error_type, error.message_key: error.message, **error.extra}
    return _json_reply(error.status, payload, content_type, with_crc=with_crc)


def _parse_json(body: bytes) -> dict[str, Any]:
    try:
        parsed = json.loads(body or b"{}")
    except ValueError:
        raise _AwsError(400, "com.amazon.coral.service#SerializationException", "Malformed JSON body") from None
    if not isinstance(parsed, dict):
        raise _AwsError(400, "com.amazon.coral.service#SerializationException", "The request body is not an object")
    return parsed


def _principal_arn(
    template: Mapping[str, Any],
    resolver: CfnResolver,
    logical_id: str,
    stack_name: str,
    physical_ids: Mapping[str, str],
    account_id: str,
) -> str:
    """The assumed-role ARN AWS names in an AccessDenied message, built the way SAM names the role."""
    properties = template["Resources"][logical_id].get("Properties") or {}
    function_name = (
        resolver.resolve(properties["FunctionName"])
        if "FunctionName" in properties
        else physical_ids.get(logical_id, f"{stack_name}-{logical_id}")
    )
    role_name = physical_ids.get(f"{logical_id}Role", f"{stack_name}-{logical_id}Role")[:64]
    return f"arn:aws:sts::{account_id}:assumed-role/{role_name}/{function_name}"


def _tables_of(target: str, body: Mapping[str, Any]) -> set[str]:
    """Table names a DynamoDB request touches (for faults injected on one table)."""
    try:
        pairs = dynamodb_authorizations(target, body, "local", ACCOUNT_ID)
    except (UnsupportedRequest, KeyError, TypeError, AttributeError):
        return set()
    return {resource.split(":", 5)[5].split("/")[1] for _, resource in pairs if ":table/" in resource}


def _canonical_key(key: Mapping[str, Any]) -> str:
    """Equal keys give equal strings: numbers compare by value ("1" and "1.0" are the same key)."""
    normalized: dict[str, Any] = {}
    for name, value in key.items():
        if isinstance(value, dict) and "N" in value:
            try:
                normalized[name] = {"N": str(Decimal(value["N"]).normalize())}
            except InvalidOperation:
                normalized[name] = value
        else:
            normalized[name] = value
    return json.dumps(normalized, sort_keys=True, separators=(",", ":"))


# ---------------------------------------------------------------------------------------------- item size


def dynamodb_item_size(item: Mapping[str, Any]) -> int:
    """An item's size in bytes as DynamoDB counts it against the 400 KB limit (developer guide, "Item sizes
    and formats"): attribute names in UTF-8, strings in UTF-8, binaries raw, numbers about one byte per two
    significant digits plus one, 1 byte for a boolean or null, and 3 bytes plus 1 per element for a list or
    map."""
    return _attributes_size(item)


def _check_item_size(item: Mapping[str, Any]) -> int:
    size = dynamodb_item_size(item)
    if size > MAX_ITEM_BYTES:
        raise _validation("Item size has exceeded the maximum allowed size")
    return size


def _attributes_size(attributes: Mapping[str, Any]) -> int:
    return sum(len(name.encode("utf-8")) + _value_size(value) for name, value in attributes.items())


def _value_size(value: Any) -> int:
    if not isinstance(value, dict) or len(value) != 1:
        return 0  # malformed: moto answers the validation error
    ((kind, content),) = value.items()
    if kind == "S":
        return len(str(content).encode("utf-8"))
    if kind == "N":
        return _number_size(str(content))
    if kind == "B":
        return _binary_size(content)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "SS":
        return sum(len(str(element).encode("utf-8")) for element in content)
    if kind == "NS":
        return sum(_number_size(str(element)) for element in content)
    if kind == "BS":
        return sum(_binary_size(element) for element in content)
    if kind == "L":
        return 3 + sum(1 + _value_size(element) for element in content)
    if kind == "M":
        return 3 + sum(1 + len(name.encode("utf-8")) + _value_size(element) for name, element in content.items())
    return 0


def _number_size(text: str) -> int:
    digits = re.sub(r"[eE].*$", "", text.strip().lstrip("+-")).replace(".", "").strip("0")
    return (max(len(digits), 1) + 1) // 2 + 1


def _binary_size(content: Any) -> int:
    try:
        return len(base64.b64decode(str(content), validate=False))
    except (binascii.Error, ValueError):
        return len(str(content))
