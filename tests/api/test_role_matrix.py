"""S2: every route × every kind of caller, generated from the app's route table.

Each effective route must declare exactly one access dependency from
api.deps.ACCESS (public, service, coordinator, admin). The expected answer for
anonymous, coordinator, admin and service callers follows from that level
alone, so a route added later (by anyone) is checked without editing this file.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi import APIRouter, Depends, FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient

from api.deps import ACCESS, CSRF_HEADER, CurrentCoordinator, public, require_admin, require_service
from api.main import create_app
from tests.api.factories import SERVICE_HEADERS, create_coordinator, login

CALLERS = ("anonymous", "coordinator", "admin", "service")
ALLOWED = {
    "public": {"anonymous", "coordinator", "admin", "service"},
    "service": {"service"},
    "coordinator": {"coordinator", "admin"},
    "admin": {"admin"},
}
# What api/deps.py says when it refuses; a public route must never answer with one of these.
ACCESS_DENIALS = {
    "Please log in.",
    "Your session expired. Please log in again.",
    "Admins only.",
    "Service credential required.",
    "Missing or wrong CSRF token.",
}


@dataclass(frozen=True)
class RouteInfo:
    method: str
    path: str  # with {params}
    levels: tuple[str, ...]  # distinct access levels declared anywhere in the dependency tree
    route: Any

    @property
    def id(self) -> str:
        return f"{self.method} {self.path}"


def _calls(dependant: Dependant) -> Iterator[Any]:
    for sub in dependant.dependencies:
        yield sub.call
        yield from _calls(sub)


def access_levels(dependant: Dependant) -> tuple[str, ...]:
    return tuple(sorted({ACCESS[call] for call in _calls(dependant) if call in ACCESS}))


def _docs_paths(app: FastAPI) -> set[str]:
    paths = {app.openapi_url, app.docs_url, app.redoc_url, app.swagger_ui_oauth2_redirect_url}
    return {p for p in paths if p}


def route_table(app: FastAPI) -> tuple[list[RouteInfo], list[str]]:
    """(API routes with their access levels, other routes that are not FastAPI's own docs)."""
    routes: list[RouteInfo] = []
    unknown: list[str] = []
    for context in iter_route_contexts(app.routes):
        if not isinstance(context.original_route, APIRoute):
            if context.path not in _docs_paths(app):
                unknown.append(f"{type(context.original_route).__name__} {context.path}")
            continue
        for method in sorted(context.methods or ()):
            if method in ("HEAD", "OPTIONS"):
                continue
            routes.append(RouteInfo(method, context.path_format, access_levels(context.dependant), context))
    return routes, unknown


APP_ROUTES, _ = route_table(create_app())


# --- the declarations ---------------------------------------------------------------


def test_the_route_table_is_read() -> None:
    found = {r.id for r in APP_ROUTES}
    assert {
        "POST /auth/login",
        "POST /referrals",
        "GET /coordinator/referrals/{referral_id}",
        "DELETE /coordinator/referrals/{referral_id}",
        "POST /coordinator/referrals/{referral_id}/screening",
        "GET /coordinator/stats.csv",
        "GET /coordinator/referrals/{referral_id}/fhir",
        "GET /coordinator/fhir/Questionnaire",
        "GET /coordinator/redcap/dictionary.csv",
        "GET /coordinator/redcap/records.csv",
        "GET /admin/audit",
        "GET /health",
    } <= found, found


def test_every_route_declares_exactly_one_access_level() -> None:
    routes, unknown = route_table(create_app())
    assert unknown == [], "routes outside FastAPI's route classes cannot be checked"
    wrong = {r.id: r.levels for r in routes if len(r.levels) != 1}
    assert wrong == {}, "declare exactly one of public / require_service / require_coordinator / require_admin"


def test_the_check_catches_missing_and_double_declarations() -> None:
    app = FastAPI()
    router = APIRouter(dependencies=[Depends(require_admin)])

    @app.get("/none")
    def none() -> None:
        """No access dependency."""

    @app.get("/two", dependencies=[Depends(public)])
    def two(coordinator: CurrentCoordinator) -> None:
        """Two access dependencies."""

    @router.get("/from-router")
    def from_router() -> None:
        """Admin through the router's dependencies."""

    @router.get("/router-and-route", dependencies=[Depends(require_service)])
    def router_and_route() -> None:
        """Admin and service."""

    app.include_router(router, prefix="/inner")
    levels = {r.path: r.levels for r in route_table(app)[0]}
    assert levels == {
        "/none": (),
        "/two": ("coordinator", "public"),
        "/inner/from-router": ("admin",),
        "/inner/router-and-route": ("admin", "service"),
    }


def test_every_route_is_documented_for_its_access_level() -> None:
    app = create_app()
    operations = app.openapi()["paths"]
    for info in APP_ROUTES:
        doc = (info.route.endpoint.__doc__ or "").strip()
        assert doc.split("\n", 1)[0].strip(), f"{info.id}: a docstring with a one-line summary"
        if not info.route.include_in_schema:
            # Only the local runs' API docs (api/main.py _add_docs) stay out of the schema; they are public.
            assert info.levels == ("public",) and info.path in ("/docs", "/redoc", "/openapi.json"), info.id
            continue
        responses = operations[info.path][info.method.lower()]["responses"]
        if info.levels != ("public",):
            assert "401" in responses, f"{info.id}: declare the 401 answer"
        if info.levels == ("admin",):
            assert "403" in responses, f"{info.id}: declare the 403 answer"


# --- the matrix ------------------------------------------------------------------------


def _url(info: RouteInfo) -> str:
    path = info.path  # path_format: "{name}" without the convertor
    for name, convertor in (info.route.param_convertors or {}).items():
        sample = "1" if type(convertor).__name__ in ("IntegerConvertor", "FloatConvertor") else "role-matrix-id"
        path = path.replace("{" + name + "}", sample)
    return path


def _call(client: TestClient, info: RouteInfo, headers: dict[str, str]) -> tuple[int, Any]:
    kwargs: dict[str, Any] = {"headers": headers}
    if info.method in ("POST", "PUT", "PATCH", "DELETE"):
        kwargs["json"] = {}
    response = client.request(info.method, _url(info), **kwargs)
    try:
        detail = response.json().get("detail") if response.headers.get("content-type", "").startswith(
            "application/json"
        ) else None
    except (ValueError, AttributeError):
        detail = None
    return response.status_code, detail


@pytest.fixture
def callers(client: TestClient) -> dict[str, tuple[TestClient, dict[str, str]]]:
    app = client.app
    made: dict[str, tuple[TestClient, dict[str, str]]] = {
        "anonymous": (TestClient(app, raise_server_exceptions=False), {}),
        "service": (TestClient(app, raise_server_exceptions=False), dict(SERVICE_HEADERS)),
    }
    for role in ("coordinator", "admin"):
        email = f"{role}@matrix.example"
        create_coordinator(email, role=role)
        user = TestClient(app, raise_server_exceptions=False)
        made[role] = (user, {CSRF_HEADER: login(user, email)})
    return made


@pytest.mark.parametrize("info", APP_ROUTES, ids=[r.id for r in APP_ROUTES])
def test_role_matrix(info: RouteInfo, callers: dict[str, tuple[TestClient, dict[str, str]]]) -> None:
    assert len(info.levels) == 1, f"{info.id} declares {info.levels}"
    level = info.levels[0]
    results = {caller: _call(*callers[caller][:1], info, callers[caller][1]) for caller in CALLERS}
    for caller, (code, detail) in results.items():
        where = f"{info.id} as {caller} ({level} route): {code} {detail!r}"
        if level == "public":
            assert not (code in (401, 403) and detail in ACCESS_DENIALS), where
            continue
        if caller in ALLOWED[level]:
            assert code not in (401, 403), where
            assert code < 500, where
        elif caller == "coordinator" and level == "admin":
            assert code == 403, where
        else:
            assert code == 401, where
    if level == "public":
        # Credentials must not change what a public route answers.
        assert len({code for code, _ in results.values()}) == 1, f"{info.id}: {results}"
