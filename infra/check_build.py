"""Check what `sam build` produced before it is deployed.

A layer built on an x86_64 laptop for the laptop's Python imports fine in tests and then fails on
Lambda with an ImportError in pydantic_core or nacl. This script reads the built template and the
artifacts under `.aws-sam/build` and fails when:

- a function's handler module is missing;
- a compiled extension (`*.so`) is not an AArch64 ELF (read from the ELF header, not `file`);
- a compiled wheel was not built for the template's CPython (cp313, or the stable ABI);
- a function plus its layer is over Lambda's 250 MB unzipped limit.

It prints the sizes, zipped and unzipped, so a report can quote them.

Usage: python infra/check_build.py [.aws-sam/build]
"""

from __future__ import annotations

import io
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

LAMBDA_UNZIPPED_LIMIT = 250 * 1024 * 1024
ELF_MAGIC = b"\x7fELF"
# e_machine values from the ELF specification.
ELF_MACHINES = {3: "x86", 62: "x86_64", 40: "arm", 183: "aarch64"}
EXPECTED_MACHINE = {"arm64": 183, "x86_64": 62}


class BuildCheckError(Exception):
    """The build artifact would not work on Lambda."""


@dataclass(frozen=True)
class Artifact:
    """One built function or layer: where it is and what the template says it runs on."""

    logical_id: str
    path: Path
    architecture: str
    runtime: str
    handler: str | None


class _CfnLoader(yaml.SafeLoader):
    """YAML loader that keeps CloudFormation short-form tags (!Ref, !Sub...) as plain values."""


def _any_tag(loader: yaml.SafeLoader, _suffix: str, node: yaml.Node) -> Any:
    if isinstance(node, yaml.ScalarNode):
        return loader.construct_scalar(node)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node, deep=True)
    return loader.construct_mapping(node, deep=True)


_CfnLoader.add_multi_constructor("!", _any_tag)


def load_artifacts(build_dir: Path) -> list[Artifact]:
    """Read the built template: every function and layer with its artifact folder."""
    template = yaml.load((build_dir / "template.yaml").read_text(), Loader=_CfnLoader)
    function_globals = template.get("Globals", {}).get("Function", {})
    artifacts = []
    for logical_id, resource in template["Resources"].items():
        props = resource.get("Properties", {})
        if resource["Type"] == "AWS::Serverless::Function":
            architectures = props.get("Architectures", function_globals.get("Architectures", ["x86_64"]))
            artifacts.append(
                Artifact(
                    logical_id=logical_id,
                    path=build_dir / props["CodeUri"],
                    architecture=architectures[0],
                    runtime=props.get("Runtime", function_globals.get("Runtime", "")),
                    handler=props["Handler"],
                )
            )
        elif resource["Type"] == "AWS::Serverless::LayerVersion":
            artifacts.append(
                Artifact(
                    logical_id=logical_id,
                    path=build_dir / props["ContentUri"],
                    architecture=props.get("CompatibleArchitectures", ["x86_64"])[0],
                    runtime=props.get("CompatibleRuntimes", [""])[0],
                    handler=None,
                )
            )
    if not artifacts:
        raise BuildCheckError(f"no functions or layers in {build_dir / 'template.yaml'}")
    return artifacts


def elf_machine(path: Path) -> int:
    """The e_machine field of an ELF file (offset 18, endianness from EI_DATA)."""
    header = path.read_bytes()[:20]
    if len(header) < 20 or header[:4] != ELF_MAGIC:
        raise BuildCheckError(f"{path} is not an ELF file")
    if header[5] == 1:  # EI_DATA: 1 little-endian, 2 big-endian
        return int.from_bytes(header[18:20], "little")
    return int.from_bytes(header[18:20], "big")


def check_extensions(artifact: Artifact) -> int:
    """Every compiled extension in the artifact is for the template's architecture; returns their count."""
    expected = EXPECTED_MACHINE[artifact.architecture]
    shared_objects = sorted(artifact.path.rglob("*.so")) + sorted(artifact.path.rglob("*.so.*"))
    for so in shared_objects:
        machine = elf_machine(so)
        if machine != expected:
            found = ELF_MACHINES.get(machine, str(machine))
            raise BuildCheckError(f"{so} is built for {found}, the function runs on {artifact.architecture}")
    return len(shared_objects)


def check_wheel_tags(artifact: Artifact) -> list[str]:
    """Compiled wheels were built for the runtime's CPython (cpXY or abi3) and an aarch64/x86_64 platform."""
    python_tag = "cp" + artifact.runtime.removeprefix("python").replace(".", "")
    platform = "aarch64" if artifact.architecture == "arm64" else "x86_64"
    compiled = []
    for wheel_file in sorted(artifact.path.rglob("*.dist-info/WHEEL")):
        lines = wheel_file.read_text().splitlines()
        if "Root-Is-Purelib: true" in lines:
            continue
        tags = [line.split(":", 1)[1].strip() for line in lines if line.startswith("Tag:")]
        fits = [t for t in tags if platform in t and (t.startswith(f"{python_tag}-") or "-abi3-" in t)]
        if not fits:
            raise BuildCheckError(f"{wheel_file.parent.name} has tags {tags}, not {python_tag}/abi3 on {platform}")
        compiled.append(f"{wheel_file.parent.name.removesuffix('.dist-info')} ({', '.join(tags)})")
    return compiled


def check_handler(artifact: Artifact) -> None:
    """The handler's module file exists at the artifact's root."""
    assert artifact.handler is not None
    module = artifact.handler.rsplit(".", 1)[0].replace(".", "/")
    if not (artifact.path / f"{module}.py").is_file():
        raise BuildCheckError(f"{artifact.logical_id}: handler module {module}.py missing in {artifact.path}")


def unzipped_size(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def zipped_size(path: Path) -> int:
    """Size of the zip SAM would upload (deflate), built in memory."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for file in sorted(path.rglob("*")):
            if file.is_file():
                archive.write(file, file.relative_to(path))
    return buffer.tell()


def megabytes(size: int) -> str:
    if size < 1024 * 1024:
        return f"{size / 1024:.1f} KB"
    return f"{size / 1024 / 1024:.1f} MB"


def check_build(build_dir: Path) -> list[str]:
    """Run every check; return the report lines, or raise BuildCheckError."""
    artifacts = load_artifacts(build_dir)
    layers = [a for a in artifacts if a.handler is None]
    report = []
    sizes: dict[str, int] = {}
    for artifact in artifacts:
        if not artifact.path.is_dir():
            raise BuildCheckError(f"{artifact.logical_id}: artifact folder {artifact.path} missing")
        if artifact.handler is not None:
            check_handler(artifact)
        extensions = check_extensions(artifact)
        wheels = check_wheel_tags(artifact)
        sizes[artifact.logical_id] = unzipped_size(artifact.path)
        unzipped, zipped = megabytes(sizes[artifact.logical_id]), megabytes(zipped_size(artifact.path))
        report.append(
            f"{artifact.logical_id}: {artifact.runtime} {artifact.architecture}, "
            f"{unzipped} unzipped, {zipped} zipped, {extensions} compiled extensions OK"
        )
        report.extend(f"  compiled wheel {w}" for w in wheels)
    layer_total = sum(sizes[layer.logical_id] for layer in layers)
    for artifact in artifacts:
        if artifact.handler is None:
            continue
        total = sizes[artifact.logical_id] + layer_total
        if total > LAMBDA_UNZIPPED_LIMIT:
            raise BuildCheckError(
                f"{artifact.logical_id} with its layers is {megabytes(total)} unzipped, over Lambda's 250 MB"
            )
        report.append(f"{artifact.logical_id} + layers: {megabytes(total)} of 250 MB unzipped")
    return report


def main(argv: list[str]) -> int:
    build_dir = Path(argv[1] if len(argv) > 1 else ".aws-sam/build")
    try:
        lines = check_build(build_dir)
    except BuildCheckError as error:
        print(f"build-check FAILED: {error}", file=sys.stderr)
        return 1
    print("\n".join(lines))
    print("build-check OK")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
