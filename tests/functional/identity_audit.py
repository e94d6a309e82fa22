"""A suite-wide check that a sender's identity never reaches the owner, and never reaches a log line.

While the whole functional suite runs, it records what leaves the backend: every API answer (and whom it
was for), every Bot API call (and to which chat), every record of the `murmur` loggers. It learns who sent
what to whom from the sends themselves. At the end, for every recipient, none of their senders' Telegram
ids may appear in anything addressed to them, nor their names and usernames in the inbox, the messages
and the new-message notifications; and no sender id appears in any log line."""

from __future__ import annotations

import json
import logging
import re
import threading
from dataclasses import dataclass, field
from typing import Any

from sandbox.fake_bot_api import FakeBotApi
from sandbox.local_stack import FUNCTIONS_DIR, ApiResponse, LocalStack, demo_user

ADMIN_MARKS = ("🚩", "🧾")  # reports and /paysupport requests go to admins, who run the service
SEND = re.compile(r"^/api/links/([A-Za-z0-9]{12})/messages$")
INBOX_VIEWS = re.compile(r"^/api/(inbox|messages/)")


_STANDARD = set(logging.LogRecord("", 0, "", 0, "", (), None).__dict__)


def _line(record: logging.LogRecord) -> str:
    """What a log line would carry: the message, its extra keys, the exception."""
    extras = {k: v for k, v in record.__dict__.items() if k not in _STANDARD}
    return f"{record.getMessage()} {record.exc_info[1] if record.exc_info else ''} {extras}"


# Powertools' structured-log framing: random request ids and timestamps, which may by chance contain a run of
# digits equal to a test user's id (a UUID segment "1002"). Everything else in the line is audited.
_FRAMING = frozenset(
    {"timestamp", "function_request_id", "xray_trace_id", "correlation_id", "function_arn", "Timestamp"}
)


def _without_framing(line: str) -> str:
    try:
        record = json.loads(line)
    except ValueError:
        return line  # a traceback or a plain line: audited whole
    if not isinstance(record, dict):
        return line
    return json.dumps({k: v for k, v in record.items() if k not in _FRAMING}, ensure_ascii=False)


@dataclass
class IdentityAudit:
    senders_of: dict[int, dict[int, dict[str, Any]]] = field(default_factory=dict)
    answers: list[tuple[int, str, str]] = field(default_factory=list)  # (user, path, body)
    bot_messages: list[tuple[int, str]] = field(default_factory=list)  # (chat, params as JSON)
    logs: list[str] = field(default_factory=list)
    written: set[str] = field(default_factory=set)  # what people typed: a sender may type their own id
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def install(self) -> None:
        audit = self
        self._api, self._handle = LocalStack.api, FakeBotApi.handle

        def api(stack: LocalStack, method: str, path: str, **kwargs: Any) -> ApiResponse:
            response = audit._api(stack, method, path, **kwargs)
            body = kwargs.get("json")
            if isinstance(body, dict):
                with audit._lock:
                    audit.written.update(str(v) for k, v in body.items() if k in ("text", "reason") and v)
            if kwargs.get("user") is not None:
                who = demo_user(kwargs["user"])
                with audit._lock:
                    audit.answers.append((who["id"], path, response.body.decode("utf-8", "replace")))
                sent = SEND.match(path)
                if sent and method == "POST" and response.status == 201:
                    link = stack.dynamodb_client().get_item(
                        TableName=stack.env["LINKS_TABLE"], Key={"code": {"S": sent[1]}}
                    )["Item"]
                    with audit._lock:
                        audit.senders_of.setdefault(int(link["user_id"]["N"]), {})[who["id"]] = who
            return response

        def handle(fake: FakeBotApi, token: str, method: str, raw: dict[str, Any]) -> Any:
            if str(raw.get("text", "")).startswith(ADMIN_MARKS):
                return audit._handle(fake, token, method, raw)  # reports and support requests: to the operator
            # A private chat (not @channel) is a person; a gift goes to its receiver by user_id (sendGift).
            to = raw.get("user_id") if method.lower() == "sendgift" else raw.get("chat_id", "")
            if str(to).lstrip("-").isdigit():
                with audit._lock:
                    audit.bot_messages.append((int(str(to)), json.dumps(raw, ensure_ascii=False)))
            return audit._handle(fake, token, method, raw)

        self._logger_handle = logging.Logger.handle
        self._container_log = LocalStack._log

        def logger_handle(logger: logging.Logger, record: logging.LogRecord) -> None:
            # Records of the application's loggers in this process (tests that build Services themselves).
            if record.name.startswith("murmur"):
                with audit._lock:
                    audit.logs.append(_line(record))
            audit._logger_handle(logger, record)

        def container_log(stack: LocalStack, function_name: str, line: str) -> None:
            # Every line the real functions' containers write: what CloudWatch Logs would keep, all of it
            # (stand-in functions that tests of the sandbox itself write are not the product).
            if stack.functions_dir == FUNCTIONS_DIR:
                with audit._lock:
                    audit.logs.append(_without_framing(line))
            audit._container_log(stack, function_name, line)

        LocalStack.api = api  # type: ignore[method-assign,assignment]
        FakeBotApi.handle = handle  # type: ignore[method-assign,assignment]
        LocalStack._log = container_log  # type: ignore[method-assign]
        logging.Logger.handle = logger_handle  # type: ignore[method-assign]

    def uninstall(self) -> None:
        LocalStack.api, FakeBotApi.handle = self._api, self._handle  # type: ignore[method-assign]
        LocalStack._log = self._container_log  # type: ignore[method-assign]
        logging.Logger.handle = self._logger_handle  # type: ignore[method-assign]

    def _without_written(self, text: str) -> str:
        from murmur.inbox import preview

        typed_and_previews = self.written | {preview(t) for t in self.written}
        for typed in sorted(typed_and_previews, key=len, reverse=True):
            text = text.replace(typed, "").replace(json.dumps(typed, ensure_ascii=False)[1:-1], "")
        return text

    def leaks(self) -> list[str]:
        found: list[str] = []
        self.answers = [(u, p, self._without_written(b)) for u, p, b in self.answers]
        self.bot_messages = [(c, self._without_written(m)) for c, m in self.bot_messages]
        all_senders = {s for senders in self.senders_of.values() for s in senders}
        for recipient, senders in self.senders_of.items():
            for sender_id, sender in senders.items():
                if sender_id == recipient:
                    continue  # writing to yourself reveals nothing
                id_pattern = re.compile(rf"(?<![0-9]){sender_id}(?![0-9])")
                names = [
                    sender.get(k)
                    for k in ("first_name", "last_name", "username")
                    if sender.get(k)
                    and len(str(sender.get(k))) >= 3
                    and sender.get(k) not in _own_names(self, recipient)
                ]
                for user, path, body in self.answers:
                    if user != recipient:
                        continue
                    if id_pattern.search(body):
                        found.append(f"sender id {sender_id} in {path} to {recipient}")
                    if INBOX_VIEWS.match(path) and any(str(n) in body for n in names):
                        found.append(f"sender name in {path} to {recipient}")
                for chat, params in self.bot_messages:
                    if chat != recipient:
                        continue
                    hit = id_pattern.search(params)
                    if hit:
                        context = params[max(0, hit.start() - 80) : hit.end() + 40]
                        found.append(f"sender id {sender_id} in a bot message to {recipient}: …{context}…")
                    if "#/m/" in params and any(str(n) in params for n in names):
                        found.append(f"sender name in a new-message notification to {recipient}")
        for sender_id in all_senders:
            id_pattern = re.compile(rf"(?<![0-9]){sender_id}(?![0-9])")
            found += [
                f"sender id {sender_id} in a log line: {line[:120]}" for line in self.logs if id_pattern.search(line)
            ]
        return found


def _own_names(audit: IdentityAudit, user_id: int) -> set[str]:
    """Names a recipient may legitimately see because they are the recipient's own."""
    for senders in audit.senders_of.values():
        if user_id in senders:
            me = senders[user_id]
            return {str(me.get(k)) for k in ("first_name", "last_name", "username") if me.get(k)}
    return set()
