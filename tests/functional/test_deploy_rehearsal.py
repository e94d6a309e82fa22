"""Deploy rehearsal: the Makefile's own recipes, the pinned SAM CLI and samconfig.toml, from a clean account.

What runs for real, in a copy of the repository's deploy files (so the guided deploy may write samconfig.toml):
`make secrets`, `make deploy GUIDED=1` answered exactly as docs/deploy.md says, a rebuild, `make deploy`, `make
setup-bot` and `make teardown` - with infra/stack_ops.py and SAM CLI 1.170 (`.venv-sam`, as `make` installs it):
its managed artifact bucket, uploads, change sets, prompts and waiters. Only the build is a stand-in (the
functions' sources and the murmur package, no wheels), so `make -o build-check` skips `sam build`: the real build
runs in CI's `make build-check`.

What plays AWS: moto's server, in this process, with every service on one endpoint (AWS_ENDPOINT_URL, which
botocore honours). Two gaps are filled the way AWS fills them: CloudFormation runs the AWS::Serverless transform
server side (here aws-sam-translator, the same code, on the template as SAM uploaded it), and a stack created by a
change set gets its outputs (moto drops them). Resource types moto cannot create (CloudFront, API Gateway v2,
alarms, Scheduler...) are left out as in test_cloudformation_deploy.py; references to them, outputs included,
become placeholder strings; and functions lose their Layers (moto fails to update a function that has them).
The Bot API is the fake one (sandbox/fake_bot_api.py).

The region trap is set on purpose: AWS_REGION=eu-west-1 while AWS_DEFAULT_REGION (all SAM and boto3 read on their
own) says us-east-1. What only a real account can show is listed in docs/deploy.md, "What is rehearsed".
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import subprocess
import time
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from cfnlint.decode import decode_str
from moto.cloudformation import models as cloudformation_models
from moto.cloudformation.parsing import get_model_map
from moto.server import ThreadedMotoServer
from samtranslator.parser.parser import Parser
from samtranslator.translator.translator import Translator

from sandbox.fake_bot_api import FakeBotApi
from tests.functional.test_cloudformation_deploy import replace_references

ROOT = Path(__file__).resolve().parents[2]
SAM_VENV = ROOT / ".venv-sam"
DOCS = ROOT / "docs" / "deploy.md"
REGION, OTHER_REGION = "eu-west-1", "us-east-1"
STACK = "murmur"
BOT_TOKEN = "7123456789:AAH" + "x" * 32
BOT_USERNAME = "my_murmur_bot"
ADMIN_ID = "111"
# What the docs' answer placeholders stand for in this rehearsal.
PLACEHOLDERS = {"<your bot's username>": BOT_USERNAME, "<your Telegram id>": ADMIN_ID, "<your e-mail, or Enter>": ""}
ANSI = re.compile(r"\x1b\[[0-9;]*m")
# Every question SAM asks ends in "[default]: " (click's prompt; Enter takes the default).
PROMPT = re.compile(r"([A-Z][^\t\n\[\]]*?) \[[^\]\n]*\]: ")

pytestmark = pytest.mark.skipif(
    not (SAM_VENV / ".installed").exists(), reason="no SAM CLI in .venv-sam: `make test` installs it"
)


# ------------------------------------------------------------------------------------------- moto as AWS
def _for_moto(template: dict[str, Any]) -> dict[str, Any]:
    """Leave out what moto cannot create; references to it, in outputs too, become placeholder strings."""
    supported = get_model_map()
    removed = {k for k, r in template["Resources"].items() if r["Type"] not in supported}
    kept = {k: r for k, r in template["Resources"].items() if k not in removed}
    for resource in kept.values():
        if resource["Type"] == "AWS::Lambda::Function":
            # moto's CloudFormation ignores a function's Layers on create and fails on update (it hands the
            # layer's object where an ARN is expected): the layer version itself is still created.
            resource["Properties"].pop("Layers", None)
        depends = resource.get("DependsOn")
        if depends:
            resource["DependsOn"] = [
                d for d in ([depends] if isinstance(depends, str) else depends) if d not in removed
            ]
    pruned = {**template, "Resources": replace_references(kept, removed)}
    pruned["Outputs"] = replace_references(template.get("Outputs", {}), removed)
    return pruned


@pytest.fixture(scope="module")
def moto_url() -> Iterator[str]:
    """moto's server, with CloudFormation's server-side transform and change-set outputs added."""
    create, execute = (
        cloudformation_models.CloudFormationBackend.create_change_set,
        cloudformation_models.CloudFormationBackend.execute_change_set,
    )

    def create_change_set(
        backend: Any,
        stack_name: str,
        change_set_name: str,
        template: str,
        parameters: dict[str, str],
        *a: Any,
        **k: Any,
    ) -> Any:
        decoded, errors = decode_str(template)
        assert not errors, errors
        document = json.loads(json.dumps(decoded))
        if "AWS::Serverless-2016-10-31" in json.dumps(document.get("Transform", "")):
            session = boto3.session.Session(region_name=backend.region_name)
            document = Translator(None, Parser(), boto_session=session).translate(
                document, parameter_values=dict(parameters), get_managed_policy_map=lambda: {}
            )
            template = json.dumps(_for_moto(document))
        return create(backend, stack_name, change_set_name, template, parameters, *a, **k)

    def execute_change_set(backend: Any, change_set_name: str, stack_name: str | None = None) -> None:
        execute(backend, change_set_name, stack_name)
        for stack in backend.stacks.values():
            if stack.template and stack.status.endswith("_COMPLETE"):
                stack._parse_template()
                stack.output_map = stack._create_output_map()

    cloudformation_models.CloudFormationBackend.create_change_set = create_change_set  # type: ignore[method-assign]
    cloudformation_models.CloudFormationBackend.execute_change_set = execute_change_set  # type: ignore[method-assign]
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # moto's server logs every request
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        # "localhost": moto resolves a TemplateURL on its own endpoint only by that name.
        yield f"http://localhost:{server.get_host_and_port()[1]}"
    finally:
        server.stop()
        cloudformation_models.CloudFormationBackend.create_change_set = create  # type: ignore[method-assign]
        cloudformation_models.CloudFormationBackend.execute_change_set = execute  # type: ignore[method-assign]


def aws(moto_url: str, service: str, region: str = REGION) -> Any:
    return boto3.client(
        service, endpoint_url=moto_url, region_name=region, aws_access_key_id="testing", aws_secret_access_key="testing"
    )


def stacks(moto_url: str, region: str) -> dict[str, dict[str, Any]]:
    return {s["StackName"]: s for s in aws(moto_url, "cloudformation", region).describe_stacks()["Stacks"]}


# ------------------------------------------------------------------------------------ the operator's shell
@pytest.fixture(scope="module")
def bot_api() -> Iterator[FakeBotApi]:
    with FakeBotApi(BOT_TOKEN, bot_username=BOT_USERNAME) as api:
        yield api


@pytest.fixture(scope="module")
def checkout(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh clone's deploy files; the venvs are the real ones (as `make` installed them)."""
    where = tmp_path_factory.mktemp("clone")
    for name in ("Makefile", "samconfig.toml", "pyproject.toml"):
        shutil.copy2(ROOT / name, where / name)
    ignore = shutil.ignore_patterns("__pycache__")
    for folder in ("mk", "infra", "functions", "src", "static_site"):
        shutil.copytree(ROOT / folder, where / folder, ignore=ignore)
    for venv in (".venv", ".venv-sam"):
        (where / venv).symlink_to(ROOT / venv)
    return where


def stand_in_build(checkout: Path, marker: str = "") -> Path:
    """What `sam build` leaves in .aws-sam/build, without the wheels: each function's folder and the murmur
    package as the layer, and the template with CodeUri / ContentUri pointing at them (as SAM writes it)."""
    build = checkout / ".aws-sam" / "build"
    shutil.rmtree(build, ignore_errors=True)
    build.mkdir(parents=True)
    source = (checkout / "infra" / "template.yaml").read_text()
    decoded, errors = decode_str(source)
    assert not errors, errors
    for logical_id, resource in decoded["Resources"].items():
        props = resource.get("Properties", {})
        if resource["Type"] == "AWS::Serverless::Function":
            shutil.copytree(checkout / "infra" / str(props["CodeUri"]), build / logical_id)
            (build / logical_id / "build-marker.txt").write_text(marker)
            source = source.replace(f"CodeUri: {props['CodeUri']}\n", f"CodeUri: {logical_id}\n")
        elif resource["Type"] == "AWS::Serverless::LayerVersion":
            shutil.copytree(checkout / "src" / "murmur", build / logical_id / "python" / "murmur")
            source = source.replace(f"ContentUri: {props['ContentUri']}\n", f"ContentUri: {logical_id}\n")
    assert "../functions/" not in source
    (build / "template.yaml").write_text(source)
    return build


def shell(moto_url: str, home: Path, **variables: str) -> dict[str, str]:
    """An operator's environment: credentials, the region trap, nothing of this test process's own."""
    (home / ".aws-sam").mkdir(parents=True, exist_ok=True)
    # SAM CLI asks PyPI for a newer version once a week: not from here.
    (home / ".aws-sam" / "metadata.json").write_text(json.dumps({"lastVersionCheck": time.time()}))
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "LANG": "C.UTF-8",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "AWS_ENDPOINT_URL": moto_url,
        "AWS_DEFAULT_REGION": OTHER_REGION,
        "AWS_REGION": REGION,
    }
    env.update(variables)
    return {k: v for k, v in env.items() if v}


def make(checkout: Path, env: dict[str, str], *args: str, answers: str = "") -> subprocess.CompletedProcess[str]:
    """`make` as a person runs it, except that nothing is (re)built: `-o build-check` keeps the stand-in build,
    and the venvs, which are the real ones behind symlinks, are never reinstalled from the copy."""
    keep = ["-o", "build-check", "-o", ".venv/.installed", "-o", ".venv-sam/.installed"]
    return subprocess.run(
        ["make", "--no-print-directory", *keep, *args],
        cwd=checkout,
        env=env,
        input=answers,
        capture_output=True,
        text=True,
        timeout=300,
    )


def documented_prompts() -> list[tuple[str, str]]:
    """docs/deploy.md's table of the guided deploy's prompts: (prompt without its [default], what to type)."""
    lines = DOCS.read_text().splitlines()
    start = lines.index("| prompt (as SAM prints it) | type | why |") + 2  # after the header and its rule
    rows = []
    for line in lines[start:]:
        if not line.startswith("|"):
            break
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if cells[0].startswith("`") and cells[1].startswith("`"):
            prompt = re.sub(r" \[[^\]]*\]$", "", cells[0].strip("`"))
            answer = cells[1].strip("`")
            rows.append((prompt, "" if answer == "Enter" else PLACEHOLDERS.get(answer, answer)))
    return rows


def prompts_asked(output: str) -> list[str]:
    return [m.group(1).strip() for m in PROMPT.finditer(ANSI.sub("", output))]


@pytest.fixture(scope="module")
def first_deploy(moto_url: str, checkout: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """From a clean account: `make secrets`, then `make deploy GUIDED=1`, answered as docs/deploy.md says."""
    env = shell(moto_url, tmp_path_factory.mktemp("home"))
    secrets = make(checkout, {**env, "BOT_TOKEN": BOT_TOKEN}, "secrets")
    assert secrets.returncode == 0, secrets.stdout + secrets.stderr
    stand_in_build(checkout)
    answers = "".join(answer + "\n" for _, answer in documented_prompts())
    guided = make(checkout, env, "deploy", "GUIDED=1", answers=answers)
    return {"env": env, "secrets": secrets, "guided": guided}


# -------------------------------------------------------------------------------------------------- tests
def test_the_guided_deploy_asks_exactly_what_the_docs_answer_and_succeeds(first_deploy: dict[str, Any]) -> None:
    guided = first_deploy["guided"]
    assert guided.returncode == 0, guided.stdout[-4000:] + guided.stderr[-4000:]
    asked = prompts_asked(guided.stdout + guided.stderr)
    assert asked == [prompt for prompt, _ in documented_prompts()]
    # The two "no authentication" questions, whose Enter (N) aborts a deploy, are there and answered y.
    assert ("WebhookFunction has no authentication. Is this okay?", "y") in documented_prompts()
    assert "Successfully created/updated stack - murmur in eu-west-1" in guided.stdout


def test_secrets_stack_and_saved_answers_are_all_in_the_one_region(
    first_deploy: dict[str, Any], moto_url: str, checkout: Path
) -> None:
    # The secrets and the stack: in AWS_REGION's region, although AWS_DEFAULT_REGION names another
    assert "(eu-west-1)" in first_deploy["secrets"].stdout and BOT_TOKEN not in first_deploy["secrets"].stdout
    ssm = aws(moto_url, "ssm")
    names = {p["Name"] for p in ssm.describe_parameters()["Parameters"]}
    assert {"/murmur/bot-token", "/murmur/webhook-secret", "/murmur/pseudonym-secret"} <= names
    deployed = stacks(moto_url, REGION)[STACK]
    assert deployed["StackStatus"] == "CREATE_COMPLETE"
    assert not aws(moto_url, "ssm", OTHER_REGION).describe_parameters()["Parameters"]
    assert set(stacks(moto_url, OTHER_REGION)) == set()

    # The answers: the parameters the stack got, saved in the repository's samconfig.toml (not in the build)
    parameters = {p["ParameterKey"]: p["ParameterValue"] for p in deployed["Parameters"]}
    assert parameters["BotUsername"] == BOT_USERNAME and parameters["AdminIds"] == ADMIN_ID
    assert parameters["ReserveConcurrency"] == "false"
    assert {t["Key"]: t["Value"] for t in deployed["Tags"]} == {"project": "murmur"}  # samconfig.toml was read
    saved = tomllib.loads((checkout / "samconfig.toml").read_text())["default"]["deploy"]["parameters"]
    assert saved["region"] == REGION and f'BotUsername="{BOT_USERNAME}"' in saved["parameter_overrides"]
    assert not (checkout / ".aws-sam" / "build" / "samconfig.toml").exists()


def test_after_a_rebuild_a_plain_make_deploy_reads_the_saved_answers(
    first_deploy: dict[str, Any], moto_url: str, checkout: Path
) -> None:
    # Given the next `sam build` (it replaces .aws-sam/build) with changed code
    stand_in_build(checkout, marker="second build")
    # When `make deploy` runs without GUIDED, and the change set is confirmed
    again = make(checkout, first_deploy["env"], "deploy", answers="y\n")
    # Then it deploys with the saved bucket, capabilities and parameters, to the same stack
    assert again.returncode == 0, again.stdout[-4000:] + again.stderr[-4000:]
    assert "Deploy this changeset?" in ANSI.sub("", again.stdout)
    assert f'"BotUsername": "{BOT_USERNAME}"' in again.stdout
    deployed = stacks(moto_url, REGION)[STACK]
    assert deployed["StackStatus"] == "UPDATE_COMPLETE"
    assert {p["ParameterKey"]: p["ParameterValue"] for p in deployed["Parameters"]}["BotUsername"] == BOT_USERNAME


def test_a_shell_in_another_region_is_stopped_before_it_writes_anything(
    first_deploy: dict[str, Any], moto_url: str, checkout: Path
) -> None:
    """A new terminal without AWS_REGION: boto3 and SAM would use AWS_DEFAULT_REGION's us-east-1, write the token
    there and start a second, secretless stack. Every step refuses instead, naming the stack's region."""
    env = {k: v for k, v in first_deploy["env"].items() if k != "AWS_REGION"}
    for args, extra in ((("secrets",), {"BOT_TOKEN": BOT_TOKEN}), (("deploy",), {}), (("setup-bot",), {})):
        refused = make(checkout, {**env, **extra}, *args, answers="y\n")
        assert refused.returncode != 0, args
        assert "samconfig.toml says the stack is in eu-west-1: export AWS_REGION=eu-west-1" in refused.stderr, args
    # And with no region at all, nothing falls back to us-east-1 either
    nowhere = {k: v for k, v in env.items() if k != "AWS_DEFAULT_REGION"}
    refused = make(checkout, {**nowhere, "BOT_TOKEN": BOT_TOKEN}, "secrets")
    assert refused.returncode != 0 and "no AWS region: export AWS_REGION=<region>" in refused.stderr
    assert not aws(moto_url, "ssm", OTHER_REGION).describe_parameters()["Parameters"]
    assert set(stacks(moto_url, OTHER_REGION)) == set()


def test_setup_bot_reads_the_stack_and_the_secrets_in_its_region(
    first_deploy: dict[str, Any], moto_url: str, checkout: Path, bot_api: FakeBotApi
) -> None:
    env = {**first_deploy["env"], "TELEGRAM_API_URL": bot_api.base_url}
    done = make(checkout, env, "setup-bot")
    assert done.returncode == 0, done.stdout + done.stderr
    webhook_secret = aws(moto_url, "ssm").get_parameter(Name="/murmur/webhook-secret", WithDecryption=True)
    assert bot_api.webhook["secret_token"] == webhook_secret["Parameter"]["Value"]
    # The webhook URL is the stack's output (CloudFront's domain is a placeholder here: moto has no CloudFront)
    assert bot_api.webhook["url"].startswith("https://") and bot_api.webhook["url"].endswith("/webhook")
    assert BOT_TOKEN not in done.stdout + done.stderr


def test_teardown_deletes_the_stack_in_its_region(first_deploy: dict[str, Any], moto_url: str, checkout: Path) -> None:
    assert STACK in stacks(moto_url, REGION)
    # sam delete asks twice: delete the stack? delete its artifacts in the managed bucket?
    gone = make(checkout, first_deploy["env"], "teardown", answers="y\ny\n")
    assert gone.returncode == 0, gone.stdout[-3000:] + gone.stderr[-3000:]
    assert "Deleted successfully" in gone.stdout
    assert STACK not in stacks(moto_url, REGION)
