"""Libraries are used through their public API; where none exists, one module each reaches into the library's
internals, and that module fails here, loudly, on the library's next upgrade (issue 15).

- Powertools' private route lists (`_static_routes`, `_dynamic_routes`): `murmur.api.resolver_routes`.
- botocore's data loader (`botocore.loaders.Loader`, a session component): `murmur.store.botocore_session`.
- python-telegram-bot: nothing private (`BaseRequest.DEFAULT_NONE` is PTB's documented "not set" marker)."""

from __future__ import annotations

import ast
import importlib.metadata
import re
import tomllib
from pathlib import Path

import botocore
import botocore.loaders
import pytest
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver
from aws_lambda_powertools.event_handler.api_gateway import Route
from botocore.exceptions import UnknownServiceError

from murmur.api import resolver_routes
from murmur.store import botocore_session

ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / "src"
# The modules allowed to reach into a library, and what for.
ISOLATED = {
    "murmur/api/resolver_routes.py": "Powertools' private route lists",
    "murmur/store/botocore_session.py": "botocore's data loader",
}


def pins() -> dict[str, str]:
    """Every `name==version` in pyproject.toml (the layer's dependencies and the dev ones)."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    specs = [*project["dependencies"], *(s for group in project["optional-dependencies"].values() for s in group)]
    found = {}
    for spec in specs:
        name, sep, version = spec.partition("==")
        if sep:
            found[re.sub(r"\[.*\]", "", name).strip().lower()] = version.strip()
    return found


# ------------------------------------------------------------------------------------------- Powertools
def test_powertools_is_the_version_its_private_route_lists_were_checked_with() -> None:
    installed = importlib.metadata.version("aws-lambda-powertools")
    assert installed == pins()["aws-lambda-powertools"] == resolver_routes.CHECKED_WITH, (
        "Powertools was upgraded: check that murmur/api/resolver_routes.py still holds (or that Powertools now "
        "lists its routes publicly), then set CHECKED_WITH"
    )


def test_the_resolvers_route_lists_have_the_shape_relied_on() -> None:
    app = APIGatewayHttpResolver(enable_validation=True)

    @app.get("/fixed")
    def fixed() -> dict[str, str]:
        return {}

    @app.post("/items/<item_id>")
    def item(item_id: str) -> dict[str, str]:
        return {}

    assert isinstance(app._static_routes, list) and isinstance(app._dynamic_routes, list)
    found = resolver_routes.routes(app)
    assert [(route.method, route.path) for route in found] == [("GET", "/fixed"), ("POST", "/items/<item_id>")]
    for route in found:
        assert isinstance(route, Route) and isinstance(route.rule, re.Pattern)
        # What murmur.api.app reads and sets on each.
        assert route.include_in_schema is True
        route.responses = {**(route.responses or {}), 404: {"description": "not found"}}
        route.security = [{"tma": []}]
    assert found[1].rule.fullmatch("/items/42") and not found[1].rule.fullmatch("/fixed")


# --------------------------------------------------------------------------------------------- botocore
def test_botocore_is_the_version_its_loader_was_checked_with() -> None:
    assert importlib.metadata.version("boto3") == pins()["boto3"]
    assert botocore.__version__ == botocore_session.CHECKED_WITH, (
        "botocore was upgraded: check that murmur/store/botocore_session.py still holds, then set CHECKED_WITH"
    )


def test_botocore_asks_the_loader_which_services_exist_before_loading_a_model() -> None:
    """The loader's one override is what botocore consults: a loader that lists nothing loads nothing."""

    class NoServices(botocore.loaders.Loader):
        def list_available_services(self, type_name: str) -> list[str]:
            return []

    with pytest.raises(UnknownServiceError):
        NoServices().load_service_model("dynamodb", "service-2")
    session = botocore_session.botocore_session()
    assert isinstance(session.get_component("data_loader"), botocore_session.KnownServicesLoader)
    assert session.get_component("data_loader").load_service_model("ssm", "service-2")["metadata"]["protocol"]


# ------------------------------------------------------------------------------------------ everywhere else
def _reaches_in(path: Path) -> list[str]:
    """Imports of a library's private module, private attributes read on anything but `self`/`cls`, and classes
    built on botocore's loader."""
    tree = ast.parse(path.read_text(), filename=str(path))
    where = path.relative_to(SRC)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and not node.module.startswith("murmur"):
            modules = [node.module]
        elif isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names if not alias.name.startswith("murmur")]
        else:
            modules = []
        found += [
            f"{where}:{node.lineno} imports {module}"
            for module in modules
            if any(part.startswith("_") and not part.startswith("__") for part in module.split("."))
            or module.startswith("botocore.loaders")
        ]
        if (
            isinstance(node, ast.Attribute)
            and node.attr.startswith("_")
            and not node.attr.startswith("__")
            and not (isinstance(node.value, ast.Name) and node.value.id in ("self", "cls"))
        ):
            found.append(f"{where}:{node.lineno} reads .{node.attr}")
    return found


def test_no_other_module_reaches_into_a_library() -> None:
    modules = sorted(SRC.joinpath("murmur").rglob("*.py"))
    assert len(modules) > 50
    wrong = [line for path in modules if str(path.relative_to(SRC)) not in ISOLATED for line in _reaches_in(path)]
    assert not wrong, "library internals outside the modules that isolate them:\n" + "\n".join(wrong)
    for isolated in ISOLATED:
        assert _reaches_in(SRC / isolated), f"{isolated} no longer reaches in: drop it from ISOLATED"
