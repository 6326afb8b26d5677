"""The type of a route's `responses=` (FastAPI's own), for the shared response tables."""

from typing import Any

Responses = dict[int | str, dict[str, Any]]
