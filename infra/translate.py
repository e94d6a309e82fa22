"""Translate the SAM template to plain CloudFormation offline, so checkov also sees what SAM generates.

checkov reads `AWS::Serverless::*` resources only in part; the roles, permissions, API stage and
schedule that SAM generates appear only after the transform. Code locations are replaced by
placeholder S3 objects (as `sam package` would) and no AWS call is made: the managed-policy loader
is a stub, since no function uses a SAM policy template.

Usage: python infra/translate.py infra/template.yaml > translated.json
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

from cfnlint.decode import decode_str
from samtranslator.translator.transform import transform


class NoManagedPolicies:
    """The translator asks IAM for managed policy names only for SAM policy templates we do not use."""

    def load(self) -> dict[str, str]:
        raise RuntimeError("the template should not name managed policies by their short name")


def translate(path: Path) -> dict[str, Any]:
    decoded, errors = decode_str(path.read_text())
    if errors:
        raise SystemExit(f"cannot parse {path}: {errors}")
    template: dict[str, Any] = json.loads(json.dumps(decoded))
    for resource in template["Resources"].values():
        if resource["Type"] == "AWS::Serverless::Function":
            resource["Properties"]["CodeUri"] = "s3://placeholder/function.zip"
        elif resource["Type"] == "AWS::Serverless::LayerVersion":
            resource["Properties"]["ContentUri"] = "s3://placeholder/layer.zip"
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")  # the partition comes from the region name
    translated: dict[str, Any] = transform(template, {}, NoManagedPolicies())
    return translated


if __name__ == "__main__":
    print(json.dumps(translate(Path(sys.argv[1] if len(sys.argv) > 1 else "infra/template.yaml")), indent=1))
