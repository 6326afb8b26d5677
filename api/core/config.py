"""Settings from the environment (pydantic-settings), with safe local defaults."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

ROOT = Path(__file__).resolve().parents[2]
PLACEHOLDER = "change-me"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="", extra="ignore")

    # "local" (set by scripts/lib.sh and the tests) allows the placeholder secrets below and
    # serves /docs; anything else, the default included, refuses them (security review, finding 7).
    environment: str = "production"
    data_dir: Path = ROOT / "data"
    database_url: str = ""
    # The Rasa tracker store, so a withdrawal can delete the conversation too.
    tracker_db_url: str = ""
    rasa_url: str = "http://127.0.0.1:5005"
    rasa_timeout_s: float = 5.0
    # Turns one API process sends to one Rasa server at once; the next wait in line, in
    # the order they came, within their deadline (0: no limit). Rasa answers a turn in
    # several steps on one event loop, each step queued behind every turn in progress,
    # so fifty at once made some turns wait past the deadline (issue 14).
    rasa_max_in_flight: int = 4
    # Shared with the action server's delivery worker (referral intake).
    service_token: str = PLACEHOLDER
    secret_key: str = PLACEHOLDER
    coordinator_idle_minutes: int = 30
    cookie_secure: bool = False
    max_message_chars: int = 500
    session_messages_per_minute: int = 30
    client_messages_per_minute: int = 120
    # Failed logins for one e-mail from one address in 15 minutes before each further try
    # waits (doubling from 1 s); failures from elsewhere never slow this pair (finding 2).
    logins_per_15_minutes: int = 10
    # Failed logins from one address, whatever the e-mail, in 15 minutes before it is refused (S1).
    login_failures_per_address: int = 50
    # Password verifications (argon2, ~50 ms and 64 MiB each) running at once in one process.
    password_checks_at_once: int = 2
    # A coordinator session ends this many hours after login, however active (finding 7).
    coordinator_max_hours: float = Field(default=12, gt=0)
    # Reverse proxies whose X-Forwarded-For is believed (comma-separated addresses or
    # networks, "10.0.0.0/8,127.0.0.1"); default none: the peer address is the client (finding 1).
    trusted_proxies: str = ""
    # Request bodies are refused above this size before any parsing (finding 4); the chat
    # caps its own body far lower (max_message_chars).
    max_body_bytes: int = Field(default=64 * 1024, ge=1024)
    # The Cookie header is refused above this size (finding 4).
    max_cookie_bytes: int = Field(default=4096, ge=256)
    # Retention (safety-security P3; api/services/retention.py): conversations and chat-session links
    # older than this many days are deleted or unlinked (the action side prunes its outbox itself).
    retention_days: int = Field(default=30, ge=1)
    # How often the API runs the retention job (api/retention_task.py); 0 turns the schedule off.
    retention_interval_minutes: float = Field(default=60, ge=0)
    # The first scheduled run waits this long after start-up (short-lived test apps never run it).
    retention_start_delay_seconds: float = Field(default=300, ge=0)
    # The study team's phone number or e-mail for a withdrawal, shown in the patient page's privacy
    # notice only when set; unset, the notice points to the cancer care team and the trial listing
    # (never an invented number).
    study_contact: str = ""

    @field_validator("trusted_proxies")
    @classmethod
    def _proxies_are_addresses(cls, value: str) -> str:
        from api.core.client_address import trusted_networks

        trusted_networks(value)  # refuses a typo at start-up, not at the first request
        return value

    @property
    def is_local(self) -> bool:
        return self.environment == "local"

    @model_validator(mode="after")
    def _fill_defaults_and_refuse_placeholders(self) -> Settings:
        if not self.database_url:
            self.database_url = f"sqlite:///{self.data_dir / 'api.sqlite'}"
        if not self.tracker_db_url:
            self.tracker_db_url = f"sqlite:///{self.data_dir / 'tracker.sqlite'}"
        if not self.is_local:
            for name in ("service_token", "secret_key"):
                if getattr(self, name) == PLACEHOLDER:
                    raise ValueError(f"{name.upper()} must be set outside local runs")
        return self


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
