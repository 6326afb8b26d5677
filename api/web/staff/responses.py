"""The OpenAPI response tables of the staff pages (every answer is an HTML page)."""

from __future__ import annotations

from typing import Any

from api.core.openapi import Responses

HTML: dict[str, Any] = {"content": {"text/html": {}}}
SIGNED_IN: Responses = {
    401: {**HTML, "description": "Not logged in, or the session expired: the login page."},
}
ADMIN_ONLY: Responses = {**SIGNED_IN, 403: {**HTML, "description": "Admins only."}}
NOT_FOUND: Responses = {404: {**HTML, "description": "No such referral (or it was deleted)."}}
INVALID: Responses = {422: {**HTML, "description": "The page address is not valid."}}
