"""Assembles the JSON API routers (placeholder until the API lands)."""

from fastapi import APIRouter


def build_api_router() -> APIRouter:
    """All JSON API routes."""
    return APIRouter()
