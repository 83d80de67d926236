"""/api/v1/admin/domain_blocks over Parvis's hacked-materials list: a domain block is a list
entry citing a rule (`rule_id`, Parvis extension; default `hacked-materials`, the list's own
rule, as on the moderators' desk). Severity `silence` or `suspend` also blocks sharing the
domain at once by a decision; `noop` only lists it, proposing decisions for review. Removing a
block is recorded and lifts the sharing block by a decision."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from starlette.concurrency import run_in_threadpool

from parvis.accounts.models import User
from parvis.api.admin_entities import AdminDomainBlock, domain_block
from parvis.api.auth import Caller, caller
from parvis.api.ids import parse_id
from parvis.api.params import read_params
from parvis.errors import InvalidInput, NotFound
from parvis.moderation import domain_blocks, lists
from parvis.runtime import Runtime, get_runtime

router = APIRouter(prefix="/api/v1/admin/domain_blocks", tags=["admin: domain blocks"])
SEVERITIES = ("noop", "silence", "suspend")


def _entry_id(value: str) -> int:
    number = parse_id(value)
    if number is None:
        raise NotFound("Record not found")
    return number


@router.get("")
async def list_domain_blocks(
    who: Caller = Depends(caller), runtime: Runtime = Depends(get_runtime)
) -> list[AdminDomainBlock]:
    """Listed domains, newest first."""
    who.staff("admin:read:domain_blocks")

    def work() -> list[AdminDomainBlock]:
        with runtime.db.session() as session:
            return [domain_block(b) for b in domain_blocks.domain_blocks(session)]

    return await run_in_threadpool(work)


@router.get("/{block_id}")
async def get_domain_block(
    block_id: str, who: Caller = Depends(caller), runtime: Runtime = Depends(get_runtime)
) -> AdminDomainBlock:
    """One listed domain."""
    who.staff("admin:read:domain_blocks")

    def work() -> AdminDomainBlock:
        with runtime.db.session() as session:
            return domain_block(domain_blocks.get_domain_block(session, _entry_id(block_id)))

    return await run_in_threadpool(work)


@router.post("")
async def create_domain_block(
    request: Request, who: Caller = Depends(caller), runtime: Runtime = Depends(get_runtime)
) -> AdminDomainBlock:
    """List a domain citing a rule (`domain`, `severity`, `rule_id`, `private_comment`)."""
    user = who.staff("admin:write:domain_blocks")
    params = await read_params(request)
    domain = params.get("domain").strip()
    severity = params.get("severity") or "silence"
    if not domain:
        raise InvalidInput("domain is required.", "domain")
    if severity not in SEVERITIES:
        raise InvalidInput(f"severity must be one of: {', '.join(SEVERITIES)}.", "severity")

    def work() -> AdminDomainBlock:
        with runtime.db.session() as session:
            block = domain_blocks.block_domain(
                session,
                runtime.services,
                session.get_one(User, user.id),
                domain=domain,
                rule_id=params.get("rule_id") or lists.HACKED_MATERIALS,
                note=params.get("private_comment") or params.get("public_comment"),
                enforce=severity != "noop",
            )
            return domain_block(block)

    return await run_in_threadpool(work)


@router.delete("/{block_id}")
async def delete_domain_block(
    block_id: str,
    request: Request,
    who: Caller = Depends(caller),
    runtime: Runtime = Depends(get_runtime),
) -> AdminDomainBlock:
    """Take a domain off the list (optional `reason`); returns the entry as it was."""
    user = who.staff("admin:write:domain_blocks")
    params = await read_params(request)

    def work() -> AdminDomainBlock:
        with runtime.db.session() as session:
            block = domain_blocks.get_domain_block(session, _entry_id(block_id))
            entity = domain_block(block)
            domain_blocks.unblock_domain(
                session,
                runtime.services,
                session.get_one(User, user.id),
                block.entry.id,
                params.get("reason"),
            )
            return entity

    return await run_in_threadpool(work)
