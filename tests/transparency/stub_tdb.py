"""A stand-in for the EU DSA Transparency Database API, for the submitter's tests: bearer token,
batch and single endpoints, the same validation rules (moderation.dsa), puid uniqueness, the
PUID lookup, and switches to answer 429/5xx or to lose its answer."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from parvis.moderation import dsa

TOKEN = "42|stub-secret-token"


@dataclass
class StubState:
    """What the stub holds and how it is told to misbehave."""

    stored: dict[str, dict[str, Any]] = field(default_factory=dict)  # puid -> statement
    failures: list[int] = field(default_factory=list)  # statuses to answer next, in order
    delay_after_store: float = 0.0  # store, then answer this late (a lost answer)
    posts: int = 0  # POST requests received (including failed ones)
    posted_puids: list[str] = field(default_factory=list)  # every puid sent, in order
    # puids to refuse as if by a rule of the database that Parvis's validator does not know
    refuse: set[str] = field(default_factory=set)


def create_stub(state: StubState) -> Starlette:
    """The stub API as an ASGI app."""

    def authorised(request: Request) -> bool:
        return request.headers.get("authorization") == f"Bearer {TOKEN}"

    def failure() -> Response | None:
        if state.failures:
            status = state.failures.pop(0)
            headers = {"Retry-After": "0"} if status == 429 else {}
            return PlainTextResponse(
                "Too Many Attempts." if status == 429 else "error", status, headers
            )
        return None

    def created(statement: dict[str, Any]) -> dict[str, Any]:
        key = str(uuid.uuid4())
        state.stored[statement["puid"]] = statement
        return {
            **dsa.normalise(statement),
            "uuid": key,
            "permalink": f"https://stub.example/statement/{key}",
            "self": f"https://stub.example/api/v1/statement/{key}",
        }

    async def batch(request: Request) -> Response:
        if not authorised(request):
            return JSONResponse({"message": "Unauthenticated."}, 401)
        state.posts += 1
        failed = failure()
        if failed is not None:
            return failed
        body = await request.json()
        statements = body.get("statements") if isinstance(body, dict) else None
        if not isinstance(statements, list) or not 1 <= len(statements) <= dsa.MAX_BATCH:
            return JSONResponse({"message": "1 to 100 statements", "errors": {}}, 422)
        state.posted_puids += [s.get("puid") for s in statements]
        problems = dsa.validate_batch(statements)
        errors = {f"statement_{i}": [str(p) for p in found] for i, found in problems.items()}
        for index, statement in enumerate(statements):
            if statement.get("puid") in state.refuse:
                errors[f"statement_{index}"] = ["decision_facts: refused by the stub"]
        if errors:  # all or nothing: no statement of the batch is stored
            return JSONResponse({"message": "invalid", "errors": errors}, 422)
        existing = [s["puid"] for s in statements if s["puid"] in state.stored]
        if existing:
            return JSONResponse(
                {
                    "message": "not unique",
                    "errors": {"puid": ["not unique"], "existing_puids": existing},
                },
                422,
            )
        answer = [created(s) for s in statements]
        if state.delay_after_store:
            await asyncio.sleep(state.delay_after_store)
        return JSONResponse({"statements": answer}, 201)

    async def single(request: Request) -> Response:
        if not authorised(request):
            return JSONResponse({"message": "Unauthenticated."}, 401)
        state.posts += 1
        statement = await request.json()
        problems = dsa.validate_statement(statement)
        if problems:
            return JSONResponse(
                {"message": "invalid", "errors": {p.field: [str(p)] for p in problems}}, 422
            )
        if statement["puid"] in state.stored:
            return JSONResponse(
                {"message": "The identifier given is not unique within this platform.",
                 "existing": {"puid": statement["puid"]}},
                422,
            )  # fmt: skip
        return JSONResponse(created(statement), 201)

    async def existing_puid(request: Request) -> Response:
        if not authorised(request):
            return JSONResponse({"message": "Unauthenticated."}, 401)
        puid = request.path_params["puid"]
        if puid in state.stored:
            return JSONResponse({"message": "statement of reason found", "puid": puid}, 302)
        return JSONResponse({"message": "statement of reason not found"}, 404)

    return Starlette(
        routes=[
            Route("/api/v1/statements", batch, methods=["POST"]),
            Route("/api/v1/statement", single, methods=["POST"]),
            Route("/api/v1/statement/existing-puid/{puid}", existing_puid, methods=["GET"]),
        ]
    )
