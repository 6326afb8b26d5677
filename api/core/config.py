"""Settings from the environment (pydantic-settings), with safe local defaults."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

ROOT = Path(__file__).resolve().parents[2]
PLACEHOLDER = "change-me"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="", extra="ignore")

    # "local" allows the placeholder secrets below; anything else refuses them.
    environment: str = "local"
    data_dir: Path = ROOT / "data"
    database_url: str = ""
    # The Rasa tracker store, so a withdrawal can delete the conversation too.
    tracker_db_url: str = ""
    rasa_url: str = "http://127.0.0.1:5005"
    rasa_timeout_s: float = 5.0
    # Shared with the action server's delivery worker (referral intake).
    service_token: str = PLACEHOLDER
    secret_key: str = PLACEHOLDER
    coordinator_idle_minutes: int = 30
    cookie_secure: bool = False
    max_message_chars: int = 500
    session_messages_per_minute: int = 30
    client_messages_per_minute: int = 120
    logins_per_15_minutes: int = 10
    # Retention (safety-security P3; api/services/retention.py): conversations and chat-session links
    # older than this many days are deleted or unlinked (the action side prunes its outbox itself).
    retention_days: int = Field(default=30, ge=1)
    # How often the API runs the retention job (api/retention_task.py); 0 turns the schedule off.
    retention_interval_minutes: float = Field(default=60, ge=0)
    # The first scheduled run waits this long after start-up (short-lived test apps never run it).
    retention_start_delay_seconds: float = Field(default=300, ge=0)

    @model_validator(mode="after")
    def _fill_defaults_and_refuse_placeholders(self) -> Settings:
        if not self.database_url:
            self.database_url = f"sqlite:///{self.data_dir / 'api.sqlite'}"
        if not self.tracker_db_url:
            self.tracker_db_url = f"sqlite:///{self.data_dir / 'tracker.sqlite'}"
        if self.environment != "local":
            for name in ("service_token", "secret_key"):
                if getattr(self, name) == PLACEHOLDER:
                    raise ValueError(f"{name.upper()} must be set outside local runs")
        return self


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
