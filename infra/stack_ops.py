"""The few AWS steps around `sam deploy` that SAM does not do, with boto3 only (no AWS CLI needed).

    python infra/stack_ops.py put-secrets     --stack murmur   # BOT_TOKEN from the environment
    python infra/stack_ops.py publish-site    --stack murmur   # static_site/ -> bucket, invalidate
    python infra/stack_ops.py output NAME     --stack murmur   # one stack output, for other targets
    python infra/stack_ops.py empty-bucket    --stack murmur   # before `sam delete` (versioned bucket)

Secrets never appear on a command line (where `ps` would show them) nor in the output: the bot token
is read from the BOT_TOKEN environment variable, the webhook secret is generated here.
Credentials and region come from the usual AWS environment (AWS_PROFILE, AWS_REGION, ...).
"""

from __future__ import annotations

import argparse
import mimetypes
import os
import re
import secrets
import sys
import time
from pathlib import Path
from typing import Any

import boto3

BOT_TOKEN_PATTERN = re.compile(r"^[0-9]{5,16}:[A-Za-z0-9_-]{30,64}$")
# Telegram's secret_token: 1-256 characters from A-Z, a-z, 0-9, _ and -.
WEBHOOK_SECRET_BYTES = 48
# The Mini App is re-published often; the HTML shell must not outlive a deploy in browsers.
NO_CACHE_SUFFIXES = (".html",)


class StackOpsError(Exception):
    """A step cannot go on; the message says what to do."""


def stack_outputs(stack: str) -> dict[str, str]:
    cloudformation = boto3.client("cloudformation")
    try:
        described = cloudformation.describe_stacks(StackName=stack)["Stacks"][0]
    except cloudformation.exceptions.ClientError as error:
        raise StackOpsError(f"stack {stack!r} not found: deploy it first (make deploy)") from error
    return {o["OutputKey"]: o["OutputValue"] for o in described.get("Outputs", [])}


def put_secrets(token_param: str, secret_param: str, rotate: bool) -> None:
    """Store the bot token, and a webhook secret unless one exists (or rotate is asked)."""
    token = os.environ.get("BOT_TOKEN", "").strip()
    if not BOT_TOKEN_PATTERN.match(token):
        raise StackOpsError("set BOT_TOKEN to the token @BotFather gave you (digits:letters)")
    ssm = boto3.client("ssm")
    ssm.put_parameter(Name=token_param, Value=token, Type="SecureString", Overwrite=True)
    print(f"stored the bot token in {token_param}")
    try:
        ssm.get_parameter(Name=secret_param)
        exists = True
    except ssm.exceptions.ParameterNotFound:
        exists = False
    if exists and not rotate:
        print(
            f"kept the webhook secret in {secret_param} (ROTATE=1 makes a new one; then run make setup-bot)"
        )
        return
    ssm.put_parameter(
        Name=secret_param,
        Value=secrets.token_urlsafe(WEBHOOK_SECRET_BYTES),
        Type="SecureString",
        Overwrite=True,
    )
    print(f"stored a new webhook secret in {secret_param}")


def _content_type(path: Path) -> str:
    guessed = mimetypes.guess_type(path.name)[0]
    if path.suffix in (".js", ".mjs"):
        return "text/javascript"
    return guessed or "application/octet-stream"


def publish_site(stack: str, site_dir: Path) -> None:
    """Upload site_dir to the site bucket, remove what is gone, and invalidate CloudFront."""
    if not (site_dir / "index.html").is_file():
        raise StackOpsError(f"{site_dir}/index.html missing: nothing to publish")
    outputs = stack_outputs(stack)
    bucket, distribution = outputs["SiteBucketName"], outputs["DistributionId"]
    s3 = boto3.client("s3")
    local = {p.relative_to(site_dir).as_posix(): p for p in sorted(site_dir.rglob("*")) if p.is_file()}
    for key, path in local.items():
        extra: dict[str, Any] = {"ContentType": _content_type(path)}
        if path.suffix in NO_CACHE_SUFFIXES:
            extra["CacheControl"] = "no-cache"
        s3.upload_file(str(path), bucket, key, ExtraArgs=extra)
    stale = [
        obj["Key"]
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket)
        for obj in page.get("Contents", [])
        if obj["Key"] not in local
    ]
    for start in range(0, len(stale), 1000):
        s3.delete_objects(
            Bucket=bucket, Delete={"Objects": [{"Key": k} for k in stale[start : start + 1000]]}
        )
    boto3.client("cloudfront").create_invalidation(
        DistributionId=distribution,
        InvalidationBatch={"Paths": {"Quantity": 1, "Items": ["/*"]}, "CallerReference": str(time.time_ns())},
    )
    print(f"published {len(local)} files to s3://{bucket}, removed {len(stale)}, invalidated {distribution}")
    print(f"Mini App: {outputs['SiteUrl']}")


def empty_bucket(stack: str) -> None:
    """Delete every object version, so CloudFormation can delete the versioned site bucket."""
    try:
        bucket = stack_outputs(stack)["SiteBucketName"]
    except StackOpsError:
        print(f"stack {stack!r} not found; nothing to empty")
        return
    boto3.resource("s3").Bucket(bucket).object_versions.delete()
    print(f"emptied s3://{bucket} (all versions)")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("command", choices=["put-secrets", "publish-site", "output", "empty-bucket"])
    parser.add_argument("name", nargs="?", help="the output's name (for `output`)")
    parser.add_argument("--stack", default="murmur")
    parser.add_argument("--token-param", default="/murmur/bot-token")
    parser.add_argument("--secret-param", default="/murmur/webhook-secret")
    parser.add_argument("--site-dir", type=Path, default=Path("static_site"))
    args = parser.parse_args(argv[1:])
    try:
        if args.command == "put-secrets":
            put_secrets(args.token_param, args.secret_param, rotate=os.environ.get("ROTATE") == "1")
        elif args.command == "publish-site":
            publish_site(args.stack, args.site_dir)
        elif args.command == "empty-bucket":
            empty_bucket(args.stack)
        else:
            outputs = stack_outputs(args.stack)
            if args.name not in outputs:
                raise StackOpsError(f"no output {args.name!r}; the stack has {sorted(outputs)}")
            print(outputs[args.name])
    except StackOpsError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
