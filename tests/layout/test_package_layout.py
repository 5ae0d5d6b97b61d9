"""The package's layout is part of its design (DESIGN.md, "Layout"; issue 11): this checks it
from the outside, by reading the source and walking the import graph, so a change that
reintroduces an import cycle, a module at the package root or an import hidden inside a
function fails here with the offending module named."""

from __future__ import annotations

import ast
import configparser
import importlib
import re
import warnings
from pathlib import Path

import grimp
import pytest
from django.dispatch import Signal
from django.utils.module_loading import import_string
from rest_framework.authentication import BaseAuthentication
from rest_framework.permissions import BasePermission

PACKAGE = Path(importlib.import_module("oauth_token").__file__).parent  # type: ignore[arg-type]

LAYOUT = {
    "core": ["jose", "secrets", "cache", "replay", "throttle", "outbound", "endpoints"],
    "registry": ["snapshots", "keyring", "provisioning", "invalidation"],
    "token_endpoint": ["request", "client_auth", "dpop", "context", "issuance"],
    "authorize": ["validation", "pkce", "consent", "login", "codes", "par", "device"],
    "tokens": ["claims", "id_tokens", "refresh_tokens", "revocation", "inspection"],
}
ROOT_MODULES = {
    "__init__",
    "apps",
    "urls",
    "login_urls",  # the sign-in and sign-out pages: path("accounts/", include(...)) (DESIGN.md)
    "checks",
    "deploy_checks",  # the checks ``manage.py check --deploy`` adds, next to checks.py
    "conf",
    "errors",
    "signals",
    "authentication",
    "permissions",
    "_deprecated",
    # Deprecation shims for dotted paths that settings may name (one release).
    "throttling",
    "trusted_issuers",
    "claims",
}
# DESIGN.md's packages; any other package at the root must have a place in a layer of the
# import-linter contract (.importlinter), e.g. events/.
ROOT_PACKAGES = {
    "core",
    "registry",
    "token_endpoint",
    "grants",
    "authorize",
    "tokens",
    "models",
    "views",
    "admin",
    "management",
}
# (module path, enclosing function): the only imports allowed inside a function.
FUNCTION_LEVEL_IMPORTS = {
    # Django's app loading: receivers and checks import models, loaded after every app config.
    ("apps.py", "ready"),
    # redis is an optional dependency.
    ("views/base.py", "_cache_outage_types"),
}
DEPRECATED_PATHS = {
    "oauth_token.throttling.remote_addr": "oauth_token.core.lockout.remote_addr",
    "oauth_token.trusted_issuers.user_by_username": (
        "oauth_token.registry.trusted_issuers.user_by_username"
    ),
    "oauth_token.claims.default_claims": "oauth_token.tokens.claims.default_claims",
    "oauth_token.authentication.HasScope": "oauth_token.permissions.HasScope",
}


def source_files() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if "migrations" not in p.parts)


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan), plus self-imports."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        for imported in sorted(edges[module]):
            if imported not in index:
                visit(imported)
                low[module] = min(low[module], low[imported])
            elif imported in stack:
                low[module] = min(low[module], index[imported])
        if low[module] == index[module]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == module:
                    break
            if len(component) > 1 or module in edges[module]:
                found.append(sorted(component))

    for module in sorted(edges):
        if module not in index:
            visit(module)
    return found


def test_no_import_cycles_among_oauth_token_modules():
    graph = grimp.build_graph("oauth_token")
    modules = {m for m in graph.modules if not m.startswith("oauth_token.migrations")}
    edges = {m: graph.find_modules_directly_imported_by(m) & modules for m in modules}
    assert len(modules) > 50, "grimp did not find the package's modules"
    assert cycles(edges) == []


@pytest.mark.parametrize("package", sorted(LAYOUT))
def test_layout_packages_hold_their_modules(package):
    assert (PACKAGE / package / "__init__.py").is_file(), package
    missing = [m for m in LAYOUT[package] if not (PACKAGE / package / f"{m}.py").is_file()]
    assert missing == [], f"oauth_token/{package}/ lacks {missing}"


def layered_names() -> set[str]:
    """Every ``oauth_token.<name>`` placed in a layer of the import-linter contract."""
    config = configparser.ConfigParser()
    config.read(PACKAGE.parent / ".importlinter")
    return set(re.findall(r"oauth_token\.(\w+)", config["importlinter:contract:layers"]["layers"]))


def test_nothing_else_at_the_package_root():
    modules = {p.stem for p in PACKAGE.glob("*.py")}
    packages = {p.name for p in PACKAGE.iterdir() if (p / "__init__.py").is_file()}
    assert modules - ROOT_MODULES == set()
    assert packages >= ROOT_PACKAGES
    assert packages - ROOT_PACKAGES - {"migrations"} <= layered_names()
    assert modules >= ROOT_MODULES


def test_signals_module_defines_the_public_signals():
    signals = importlib.import_module("oauth_token.signals")
    defined = {name for name, value in vars(signals).items() if isinstance(value, Signal)}
    assert {"token_issued", "tokens_revoked", "signing_key_rotated"} <= defined


def test_resource_server_classes_are_split_into_authentication_and_permissions():
    authentication = importlib.import_module("oauth_token.authentication")
    permissions = importlib.import_module("oauth_token.permissions")
    assert any(
        isinstance(v, type)
        and issubclass(v, BaseAuthentication)
        and v.__module__ == authentication.__name__
        for v in vars(authentication).values()
    )
    assert issubclass(permissions.HasScope("read:things"), BasePermission)


def function_level_imports(path: Path) -> list[tuple[str, str, int]]:
    """(file, outermost enclosing function, line) of every import inside a function."""
    found: list[tuple[str, str, int]] = []

    def walk(node: ast.AST, function: str | None) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.Import | ast.ImportFrom) and function:
                found.append((path.relative_to(PACKAGE).as_posix(), function, child.lineno))
            inner = function
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef) and not function:
                inner = child.name
            walk(child, inner)

    walk(ast.parse(path.read_text(encoding="utf-8")), None)
    return found


def test_no_imports_inside_functions_except_the_allowed_ones():
    found = [hit for path in source_files() for hit in function_level_imports(path)]
    unexpected = [hit for hit in found if hit[:2] not in FUNCTION_LEVEL_IMPORTS]
    assert unexpected == [], "imports inside functions (move them to module level)"
    assert {hit[:2] for hit in found} >= {("apps.py", "ready")}


@pytest.mark.parametrize("old", sorted(DEPRECATED_PATHS))
def test_deprecated_dotted_paths_still_resolve_with_a_warning(old):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        found = import_string(old)
    assert found is import_string(DEPRECATED_PATHS[old])
    deprecations = [w for w in caught if issubclass(w.category, DeprecationWarning)]
    assert deprecations, f"{old} resolved without a DeprecationWarning"
    assert DEPRECATED_PATHS[old] in str(deprecations[0].message)
