"""The few AWS steps around `sam deploy` that SAM does not do, with boto3 only (no AWS CLI needed).

    python infra/stack_ops.py put-secrets     --stack murmur   # BOT_TOKEN from the environment
    python infra/stack_ops.py publish-site    --stack murmur   # static_site/ -> bucket, invalidate
    python infra/stack_ops.py output NAME     --stack murmur   # one stack output, for other targets
    python infra/stack_ops.py parameter NAME  --stack murmur   # one stack parameter (BotUsername for setup-bot)
    python infra/stack_ops.py region                           # the region every step uses (see below)
    python infra/stack_ops.py empty-bucket    --stack murmur   # before `sam delete` (versioned bucket)

Secrets never appear on a command line (where `ps` would show them) nor in the output: the bot token
is read from the BOT_TOKEN environment variable, the webhook and pseudonym secrets are generated here.
Credentials come from the usual AWS environment (AWS_PROFILE, access keys, ...).

The region has one rule, used by every step (`mk/deploy.mk` hands `region`'s answer to `sam deploy`,
`sam delete` and the bot setup): AWS_REGION, else AWS_DEFAULT_REGION, else the AWS profile's region; none
at all is an error, never a silent us-east-1. The SAM CLI and boto3 on their own read only the last two
(AWS_REGION is the AWS CLI's and Lambda's), which is how secrets and stack could land apart. And once a
guided deploy has saved the stack's region in samconfig.toml, a shell that resolves another one is stopped
before it writes a secret or starts a second stack in the wrong place.
"""

from __future__ import annotations

import argparse
import mimetypes
import os
import re
import secrets
import sys
import time
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import boto3

SAMCONFIG = Path(__file__).resolve().parents[1] / "samconfig.toml"
BOT_TOKEN_PATTERN = re.compile(r"^[0-9]{5,16}:[A-Za-z0-9_-]{30,64}$")
# 48 random bytes as 64 URL-safe characters: fits Telegram's secret_token (1-256 of A-Z, a-z, 0-9,
# _ and -) and is a 384-bit HMAC key for pseudonyms.
GENERATED_SECRET_BYTES = 48
# The Mini App is re-published often; the HTML shell must not outlive a deploy in browsers.
NO_CACHE_SUFFIXES = (".html",)


class StackOpsError(Exception):
    """A step cannot go on; the message says what to do."""


def _describe(stack: str) -> dict[str, Any]:
    cloudformation = boto3.client("cloudformation")
    try:
        described: dict[str, Any] = cloudformation.describe_stacks(StackName=stack)["Stacks"][0]
    except cloudformation.exceptions.ClientError as error:
        region = cloudformation.meta.region_name
        raise StackOpsError(f"stack {stack!r} not found in {region}: deploy it first (make deploy)") from error
    return described


def stack_outputs(stack: str) -> dict[str, str]:
    return {o["OutputKey"]: o["OutputValue"] for o in _describe(stack).get("Outputs", [])}


def stack_parameters(stack: str) -> dict[str, str]:
    return {p["ParameterKey"]: p.get("ParameterValue", "") for p in _describe(stack).get("Parameters", [])}


def saved_region(samconfig: Path = SAMCONFIG) -> str:
    """The region a guided deploy saved in samconfig.toml ("" before the first one)."""
    try:
        config = tomllib.loads(samconfig.read_text())
    except FileNotFoundError:
        return ""
    default = config.get("default", {})
    for section in ("deploy", "global"):
        region = default.get(section, {}).get("parameters", {}).get("region", "")
        if region:
            return str(region)
    return ""


def resolved_region(env: Mapping[str, str] = os.environ, samconfig: Path = SAMCONFIG) -> str:
    """The one region of every step: AWS_REGION, else AWS_DEFAULT_REGION, else the AWS profile's region,
    and never one that contradicts the region samconfig.toml saved for the stack (see the module's doc)."""
    for variable in ("AWS_REGION", "AWS_DEFAULT_REGION"):
        region, source = env.get(variable, "").strip(), variable
        if region:
            break
    else:
        region, source = boto3.session.Session().region_name or "", "your AWS profile"
    if not region:
        raise StackOpsError(
            "no AWS region: export AWS_REGION=<region> (one region holds the secrets, the stack and the site)"
        )
    saved = saved_region(samconfig)
    if saved and saved != region:
        raise StackOpsError(
            f"this shell's region is {region} (from {source}), but samconfig.toml says the stack is in {saved}:"
            f" export AWS_REGION={saved}. (To move to {region}, deploy a new stack there: remove the region"
            " lines from samconfig.toml, then make secrets and make deploy GUIDED=1.)"
        )
    return region


def put_secrets(token_param: str, secret_param: str, pseudonym_param: str, rotate: bool) -> None:
    """Store the bot token; generate the webhook secret and the pseudonym secret unless they exist.

    `rotate` replaces the webhook secret only (then `make setup-bot` tells Telegram). The pseudonym
    secret is never rotated here: it keys every sender's pseudonym, so a new one would forget every
    block and give every sender a new nickname in every inbox. Delete the parameter by hand if you
    really mean that.
    """
    token = os.environ.get("BOT_TOKEN", "").strip()
    if not BOT_TOKEN_PATTERN.match(token):
        raise StackOpsError("set BOT_TOKEN to the token @BotFather gave you (digits:letters)")
    ssm = boto3.client("ssm")
    ssm.put_parameter(Name=token_param, Value=token, Type="SecureString", Overwrite=True)
    print(f"stored the bot token in {token_param} ({ssm.meta.region_name})")
    if _generate_once(ssm, secret_param, "webhook secret", replace=rotate):
        print(f"stored a new webhook secret in {secret_param}")
    else:
        print(f"kept the webhook secret in {secret_param} (ROTATE=1 makes a new one; then run make setup-bot)")
    if _generate_once(ssm, pseudonym_param, "pseudonym secret", replace=False):
        print(f"stored a new pseudonym secret in {pseudonym_param} (never rotate it: blocks hang on it)")
    else:
        print(f"kept the pseudonym secret in {pseudonym_param}")


def _generate_once(ssm: Any, name: str, what: str, replace: bool) -> bool:
    """Write a fresh random SecureString at `name` unless one exists and `replace` is false."""
    if not replace:
        try:
            ssm.get_parameter(Name=name)
            return False
        except ssm.exceptions.ParameterNotFound:
            pass
    ssm.put_parameter(
        Name=name,
        Value=secrets.token_urlsafe(GENERATED_SECRET_BYTES),
        Type="SecureString",
        Overwrite=True,
        Description=f"Murmur {what} (generated by make secrets)",
    )
    return True


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
        s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": k} for k in stale[start : start + 1000]]})
    boto3.client("cloudfront").create_invalidation(
        DistributionId=distribution,
        InvalidationBatch={"Paths": {"Quantity": 1, "Items": ["/*"]}, "CallerReference": str(time.time_ns())},
    )
    print(f"published {len(local)} files to s3://{bucket}, removed {len(stale)}, invalidated {distribution}")
    print(f"Mini App: {outputs['SiteUrl']}")


def empty_bucket(stack: str) -> None:
    """Delete every object version, so CloudFormation can delete the versioned site bucket."""
    try:
        bucket = stack_outputs(stack).get("SiteBucketName")
    except StackOpsError:
        print(f"stack {stack!r} not found; nothing to empty")
        return
    if bucket is None:  # a first deploy that rolled back has no outputs (and no bucket left)
        print(f"stack {stack!r} has no site bucket; nothing to empty")
        return
    boto3.resource("s3").Bucket(bucket).object_versions.delete()
    print(f"emptied s3://{bucket} (all versions)")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "command", choices=["put-secrets", "publish-site", "output", "parameter", "region", "empty-bucket"]
    )
    parser.add_argument("name", nargs="?", help="the output's or parameter's name (for `output`, `parameter`)")
    parser.add_argument("--stack", default="murmur")
    parser.add_argument("--token-param", default="/murmur/bot-token")
    parser.add_argument("--secret-param", default="/murmur/webhook-secret")
    parser.add_argument("--pseudonym-param", default="/murmur/pseudonym-secret")
    parser.add_argument("--site-dir", type=Path, default=Path("static_site"))
    args = parser.parse_args(argv[1:])
    try:
        # Every client below, in the one region of every step.
        region = resolved_region()
        boto3.setup_default_session(region_name=region)
        if args.command == "put-secrets":
            put_secrets(
                args.token_param,
                args.secret_param,
                args.pseudonym_param,
                rotate=os.environ.get("ROTATE") == "1",
            )
        elif args.command == "publish-site":
            publish_site(args.stack, args.site_dir)
        elif args.command == "empty-bucket":
            empty_bucket(args.stack)
        elif args.command == "region":
            print(region)
        else:
            values = stack_outputs(args.stack) if args.command == "output" else stack_parameters(args.stack)
            if args.name not in values:
                raise StackOpsError(f"no {args.command} {args.name!r}; the stack has {sorted(values)}")
            print(values[args.name])
    except StackOpsError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
