"""Shared set-up of the settings tests: small definition files of a district's own, and uploads."""

from __future__ import annotations

import json
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from btam.accounts.models import Role, User


def manager(world: Any) -> User:
    return world.users[Role.DATABASE_MANAGER]


def leader(world: Any) -> User:
    return world.users[Role.TEAM_LEADER]


def scheme_json(definition_id: str = "district-scheme", version: int = 1, **changes: Any) -> dict[str, Any]:
    """A three-level scheme of a district's own."""
    data: dict[str, Any] = {
        "id": definition_id,
        "version": version,
        "kind": "level_scheme",
        "title": {"en": "Our three levels", "es": "Nuestros tres niveles"},
        "description": "A district's own scheme (test).",
        "levels": [
            {
                "id": "green",
                "label": "Green",
                "description": "Low concern.",
                "approval": False,
                "reassess_days": 60,
                "interventions": {"required": [], "suggested": ["wellness-check"]},
            },
            {
                "id": "amber",
                "label": "Amber",
                "description": "Some concern.",
                "approval": False,
                "reassess_days": 14,
                "interventions": {"required": ["safety-plan"], "suggested": ["parent-conference"]},
            },
            {
                "id": "red",
                "label": "Red",
                "description": "High concern.",
                "approval": True,
                "reassess_days": 2,
                "interventions": {"required": ["safety-plan", "law-enforcement-referral"], "suggested": []},
            },
        ],
    }
    data.update(changes)
    return data


def tree_json(definition_id: str = "district-tree", version: int = 1, *, loop: bool = False) -> dict[str, Any]:
    """A two-step decision tree of a district's own (with ``loop``: step 2 leads back to step 1)."""
    last = {"value": "no", "label": "No", "reason": "Not resolved."}
    last.update({"next": "s1"} if loop else {"outcome": "high-concern"})
    return {
        "id": definition_id,
        "version": version,
        "kind": "decision_tree",
        "title": "Our tree",
        "description": "A small decision tree (test).",
        "start": "s1",
        "outcomes": [{"id": "low-concern", "label": "Low concern"}, {"id": "high-concern", "label": "High concern"}],
        "steps": [
            {
                "id": "s1",
                "step": 1,
                "text": "Is there a plan?",
                "options": [
                    {"value": "no", "label": "No", "next": "s2", "reason": "No plan."},
                    {"value": "yes", "label": "Yes", "outcome": "high-concern", "reason": "A plan."},
                ],
            },
            {
                "id": "s2",
                "step": 2,
                "text": "Was it resolved?",
                "options": [{"value": "yes", "label": "Yes", "outcome": "low-concern", "reason": "Resolved."}, last],
            },
        ],
    }


def file_bytes(data: dict[str, Any]) -> bytes:
    return json.dumps(data, ensure_ascii=False, indent=2).encode("utf-8")


def file_name(data: dict[str, Any]) -> str:
    return f"{data['id']}.v{data['version']}.json"


def upload(client: Client, district_id: int, name: str, content: bytes) -> Any:
    """POST a file to the upload form, as the browser does."""
    return client.post(
        reverse("assessments:settings_files") + f"?district={district_id}",
        {"district": str(district_id), "file": SimpleUploadedFile(name, content, content_type="application/json")},
    )
