"""Settings: a TOML file plus ``TRACKER_*`` environment variables (the environment wins).

Every setting is a flat field below; its environment variable is ``TRACKER_`` + the
upper-cased name (``database_url`` ↔ ``TRACKER_DATABASE_URL``). The settings file is
``$TRACKER_CONFIG`` when set, else ``<home>/tracker.toml`` when it exists.
``config/tracker.example.toml`` documents every setting and is checked against this
model by the tests, so the two cannot drift.
"""

from __future__ import annotations

import os
from contextvars import ContextVar
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, ValidationInfo, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from tracker import __version__
from tracker.net.fetcher import RenderMode
from tracker.notify.spec import ChannelSettings

DEFAULT_USER_AGENT = (
    f"tracker/{__version__} (live-story update tracker; "
    "+https://github.com/live-story-tracker/tracker)"
)


class Settings(BaseSettings):
    """All settings. Durations are seconds or strings like ``15m``, ``3h``, ``2d``."""

    model_config = SettingsConfigDict(env_prefix="TRACKER_", extra="forbid")

    # -- storage -----------------------------------------------------------------------
    home: Path = Field(
        default=Path("./tracker-data"),
        description="Data directory: the SQLite database and logs live here.",
    )
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL of the database. Default: SQLite at <home>/tracker.db. "
        "For PostgreSQL: postgresql+psycopg://user@host/dbname",
    )

    # -- fetching ----------------------------------------------------------------------
    user_agent: str = Field(default=DEFAULT_USER_AGENT, description="User-Agent header sent.")
    connect_timeout: float = Field(default=10.0, gt=0, description="Seconds to connect.")
    read_timeout: float = Field(default=20.0, gt=0, description="Seconds between bytes read.")
    fetch_deadline: float = Field(
        default=60.0, gt=0, description="Overall seconds for one fetch, redirects included."
    )
    max_redirects: int = Field(default=5, ge=0, description="Redirects followed per fetch.")
    max_body_bytes: int = Field(
        default=10 * 1024 * 1024,
        gt=0,
        description="Cap on the (decompressed) body size; larger pages are an error.",
    )
    allow_private_networks: bool = Field(
        default=False,
        description="Allow fetching loopback and private addresses (off: SSRF protection).",
    )
    proxy_url: SecretStr | None = Field(
        default=None,
        description="HTTP proxy for every fetch, http://[user:password@]host:port (HTTPS goes "
        "through it with CONNECT). Story hosts are still resolved and vetted here first. "
        "Proxy variables in the environment are ignored.",
    )

    # -- rendering (see docs/operations.md) ----------------------------------------------
    render: RenderMode = Field(
        default="auto",
        description="How stories and feeds without a render mode of their own are fetched: "
        "http (plain fetch), browser (rendered in headless Chromium, for pages whose article "
        "a script inserts) or auto (plain fetch, rendering pages that turn out to need it).",
    )
    browser_executable: str | None = Field(
        default=None,
        description="Chromium or Chrome used to render pages: a path or a command name. "
        "Default: the first of chromium, chromium-browser, google-chrome on PATH.",
    )
    browser_pages: int = Field(
        default=2, ge=1, description="Pages the browser renders at once (each uses memory)."
    )
    browser_max_pages_per_launch: int = Field(
        default=200, ge=1, description="The browser is restarted after rendering this many pages."
    )
    browser_screenshots: bool = Field(
        default=False,
        description="Keep a PNG screenshot of each version fetched with the browser, as "
        "evidence of what the page showed (stored with the raw captures; about 100-500 kB each).",
    )
    browser_max_memory_mb: int = Field(
        default=1024,
        ge=0,
        description="The browser is restarted when its processes hold more than this many MB "
        "(their summed proportional set size, from /proc; Linux only). 0: no ceiling.",
    )

    # -- politeness --------------------------------------------------------------------
    respect_robots_txt: bool = Field(
        default=True, description="Honour robots.txt (a story can override it)."
    )
    robots_cache_seconds: float = Field(default=3600.0, gt=0, description="robots.txt cache TTL.")
    per_host_concurrency: int = Field(default=2, ge=1, description="Parallel fetches per host.")
    per_host_min_delay: float = Field(
        default=1.0, ge=0, description="Minimum seconds between request starts to one host."
    )
    global_concurrency: int = Field(default=16, ge=1, description="Parallel fetches in total.")
    extract_processes: int = Field(
        default=-1,
        description="Processes for article extraction (CPU-bound). -1: one per core; "
        "0: extract in the fetching thread.",
    )
    extract_timeout: float = Field(
        default=30.0,
        gt=0,
        description="CPU seconds one page's extraction may take in an extraction process; "
        "a page over it is a check error (kind extraction) and the process is reused, or "
        "replaced if stuck. Not enforced with extract_processes 0.",
    )

    # -- cadence -----------------------------------------------------------------------
    cadence_tiers: str = Field(
        default="3h=15m, 1d=1h, 7d=3h, 30d=3d, 365d=30d",
        description="Age tiers 'younger_than=interval', age counted from the later of first "
        "seen and the last substantive change. Older than the last tier: retire.",
    )
    developing_interval: str = Field(
        default="2m", description="Interval while a story carries a developing/update marker."
    )
    developing_max_age: str = Field(
        default="2d",
        description="A developing marker tightens the cadence only this long after the later "
        "of its appearance and the last substantive change.",
    )
    error_backoff_base: str = Field(default="5m", description="Back-off after the first error.")
    error_backoff_cap: str = Field(default="6h", description="Longest back-off on errors.")
    max_retry_after: str = Field(default="1d", description="Cap on an honoured Retry-After.")
    gone_after: int = Field(default=3, ge=1, description="Consecutive 404/410 before 'gone'.")
    jitter: float = Field(default=0.05, ge=0, lt=0.5, description="± share of jitter.")
    promise_deadline: str = Field(
        default="24h", description="A promised update not delivered by then is 'overdue'."
    )

    # -- daemon ------------------------------------------------------------------------
    dispatch_interval: float = Field(default=1.0, gt=0, description="Seconds between ticks.")
    dispatch_batch: int = Field(default=64, ge=1, description="Stories claimed per tick.")
    lease_seconds: float = Field(
        default=300.0, gt=0, description="How long a claimed story stays leased to a worker."
    )
    summary_interval: float = Field(
        default=60.0, gt=0, description="Seconds between the daemon's summary log lines."
    )
    housekeeping_interval: float = Field(
        default=300.0, gt=0, description="Seconds between housekeeping runs."
    )
    check_retention_days: int = Field(
        default=90, ge=1, description="Check rows older than this are pruned."
    )
    log_format: Literal["text", "json"] = Field(default="text", description="Log line format.")

    # -- discovery and archive (see docs/discovery-and-archive.md) ----------------------
    feed_poll_interval: str = Field(
        default="15m", description="How often each feed or sitemap is polled (conditional GET)."
    )
    feed_max_new_per_poll: int = Field(
        default=100,
        ge=1,
        description="Most new stories one poll of one feed adds (newest entries first); the "
        "rest wait for the next polls. Bounds what one huge or hostile feed can start.",
    )
    feed_max_stories: int = Field(
        default=5000,
        ge=1,
        description="Most active stories one feed may have at once (stories it lists that are "
        "still being checked); past that its new entries are held back and reported.",
    )
    feed_new_stories_spread: str = Field(
        default="5m",
        description="The first checks of the stories one poll adds are spread evenly over "
        "this long, not all due at once.",
    )
    tracking_parameters: list[str] = Field(
        default=[],
        description="Query parameters to strip from story URLs besides the built-in list "
        "(utm_*, fbclid, gclid, …); 'name' or 'prefix*'.",
    )
    capture_retention_days: int = Field(
        default=0,
        ge=0,
        description="Raw captures older than this are pruned (versions are kept; each story's "
        "latest capture too). 0: keep forever.",
    )

    # -- web-archive hand-off (see docs/discovery-and-archive.md) ------------------------
    archive_endpoint: str | None = Field(
        default=None,
        description="A Save Page Now style web archive (e.g. https://web.archive.org) to "
        "which each new version's URL is submitted. Unset: no hand-off (the default).",
    )
    archive_api: Literal["spn2", "simple"] = Field(
        default="spn2",
        description="spn2: POST {endpoint}/save then poll /save/status/{job_id}; simple: "
        "GET {endpoint}/save/{url}, the copy named by Content-Location or the redirect.",
    )
    archive_access_key: str | None = Field(
        default=None, description="SPN2 access key (sent as 'Authorization: LOW key:secret')."
    )
    archive_secret_key: SecretStr | None = Field(
        default=None, description="SPN2 secret key (prefer the environment variable)."
    )
    archive_replay_base: str = Field(
        default="https://web.archive.org/web",
        description="Where archived copies are read: {replay_base}/{timestamp}/{url}.",
    )
    archive_per_minute: int = Field(
        default=4, ge=1, description="Most save requests a minute, across all workers."
    )
    archive_timeout: float = Field(
        default=60.0, gt=0, description="Seconds to connect to the archive and for each read."
    )
    archive_max_attempts: int = Field(
        default=6, ge=1, description="Save requests for one version before it is marked failed."
    )
    archive_backoff_base: str = Field(
        default="2m", description="Wait after a failed save (then doubling); at least 1m."
    )
    archive_backoff_cap: str = Field(default="6h", description="Longest wait between saves.")
    archive_poll_interval: str = Field(
        default="30s", description="How often an accepted SPN2 job's status is asked."
    )
    archive_poll_for: str = Field(
        default="15m", description="How long a job may stay pending before the save is retried."
    )
    archive_interval: float = Field(
        default=5.0, gt=0, description="Seconds between archive hand-off ticks."
    )

    # -- timestamping (see docs/evidence.md, "Timestamps (RFC 3161)") -------------------
    tsa_url: str | None = Field(
        default=None,
        description="RFC 3161 time-stamping authority to timestamp the stories' chain heads "
        "with (e.g. https://freetsa.org/tsr). Unset: no timestamps are requested.",
    )
    tsa_username: str | None = Field(
        default=None, description="User name for the TSA (HTTP basic auth), if it needs one."
    )
    tsa_password: SecretStr | None = Field(
        default=None, description="Password for the TSA (HTTP basic auth)."
    )
    tsa_headers: list[str] = Field(
        default=[],
        description="Extra HTTP headers sent to the TSA, each 'Name: value' (an API key).",
    )
    tsa_hash_algorithm: Literal["sha256", "sha512"] = Field(
        default="sha256", description="Hash of the message imprint sent to the TSA."
    )
    tsa_interval: str = Field(
        default="1h",
        description="The daemon timestamps the chain heads that changed since the last "
        "timestamp at most this often (one request covers every changed story).",
    )
    tsa_timeout: float = Field(
        default=30.0, gt=0, description="Seconds to wait for the TSA's answer."
    )
    tsa_ca_file: Path | None = Field(
        default=None,
        description="PEM file of the TSA's CA certificate(s), to verify its tokens "
        "(tracker verify). Unset: tokens are listed but their signatures not checked.",
    )

    # -- web ---------------------------------------------------------------------------
    web_host: str = Field(default="127.0.0.1", description="Address the web UI binds to.")
    web_port: int = Field(default=8765, description="Port of the web UI.")
    base_url: str | None = Field(
        default=None, description="Public URL of the web UI, used in links in alerts."
    )
    web_token: str | None = Field(
        default=None,
        description="Token (API: 'Authorization: Bearer …'; browser: login form) required "
        "when the web UI binds to anything but loopback.",
    )

    # -- alerts (see docs/alerts.md) --------------------------------------------------------
    webhook_proxy_url: SecretStr | None = Field(
        default=None,
        description="HTTP proxy for webhook deliveries, http://[user:password@]host:port "
        "(default: receivers are addressed directly; proxy_url is for fetching only).",
    )
    smtp_host: str = Field(default="localhost", description="SMTP server for email alerts.")
    smtp_port: int | None = Field(
        default=None, description="SMTP port. Default: 25, 587 with starttls, 465 with tls."
    )
    smtp_security: Literal["none", "starttls", "tls"] = Field(
        default="none", description="none, starttls (upgrade after connecting) or tls (implicit)."
    )
    smtp_username: str | None = Field(default=None, description="SMTP login, if required.")
    smtp_password: SecretStr | None = Field(
        default=None, description="SMTP password (prefer the environment variable)."
    )
    smtp_from: str = Field(default="tracker@localhost", description="Sender of email alerts.")
    smtp_timeout: float = Field(default=30.0, gt=0, description="Seconds for each SMTP step.")
    webhook_timeout: float = Field(
        default=10.0, gt=0, description="Seconds to connect to a webhook and for each read."
    )
    delivery_interval: float = Field(
        default=1.0, gt=0, description="Seconds between delivery ticks (sending due alerts)."
    )
    delivery_batch: int = Field(default=50, ge=1, description="Deliveries claimed per tick.")
    delivery_concurrency: int = Field(default=4, ge=1, description="Alerts sent at once.")
    delivery_backoff_base: str = Field(
        default="30s", description="Wait after an alert's first failed attempt (then doubling)."
    )
    delivery_backoff_cap: str = Field(default="1h", description="Longest wait between attempts.")
    delivery_max_attempts: int = Field(
        default=12, ge=1, description="Attempts before a delivery is marked dead."
    )
    delivery_lease: str = Field(
        default="5m", description="How long a claimed delivery stays reserved for one worker."
    )
    channels: list[ChannelSettings] = Field(
        default=[],
        description="Alert channels declared here ([[channels]] tables, see docs/alerts.md); "
        "synced into the database when the daemon starts.",
    )

    @field_validator("proxy_url", "webhook_proxy_url")
    @classmethod
    def _check_proxy(cls, value: SecretStr | None, info: ValidationInfo) -> SecretStr | None:
        if value is None or not value.get_secret_value().strip():
            return None
        from tracker.net.netguard import is_valid_proxy_url

        # The fetcher's own test, so that a proxy it cannot use is refused here, at start-up,
        # rather than failing every check.
        if not is_valid_proxy_url(value.get_secret_value().strip()):
            raise ValueError(
                f"{info.field_name} must look like http://host:port (http or https proxy; "
                "characters such as @ : / # ? in the user name or password percent-encoded)"
            )
        return SecretStr(value.get_secret_value().strip())

    @field_validator("tsa_headers")
    @classmethod
    def _check_tsa_headers(cls, value: list[str]) -> list[str]:
        for header in value:
            name, sep, _ = header.partition(":")
            if not sep or not name.strip() or any(c in header for c in "\r\n"):
                raise ValueError(f"tsa_headers entries look like 'Name: value', not {header!r}")
        return value

    @field_validator("tsa_interval")
    @classmethod
    def _check_tsa_interval(cls, value: str) -> str:
        from tracker.core.cadence import parse_duration

        parse_duration(value)  # raises ValueError with the reason
        return value

    @field_validator("home", mode="before")
    @classmethod
    def _expand_home(cls, value: Any) -> Any:
        return Path(value).expanduser() if isinstance(value, str | Path) else value

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.home / 'tracker.db').resolve()}"

    @property
    def is_sqlite(self) -> bool:
        return self.effective_database_url.startswith("sqlite")

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        config_file = _config_file()
        if config_file is not None:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=config_file))
        return tuple(sources)


def _config_file(home: Path | None = None) -> Path | None:
    """The settings file: $TRACKER_CONFIG, else <home>/tracker.toml if it exists (home: the
    one given to load_settings, else $TRACKER_HOME, else ./tracker-data)."""
    explicit = os.environ.get("TRACKER_CONFIG")
    if explicit:
        path = Path(explicit).expanduser()
        if not path.is_file():
            raise FileNotFoundError(f"TRACKER_CONFIG points to {path}, which does not exist")
        return path
    home = home or _HOME_OVERRIDE.get()
    if home is None:
        home = Path(os.environ.get("TRACKER_HOME", "./tracker-data"))
    candidate = home.expanduser() / "tracker.toml"
    return candidate if candidate.is_file() else None


# The home a caller passed to load_settings (`tracker --home DIR`): its tracker.toml is read
# as TRACKER_HOME's would be. A context variable, because pydantic-settings asks for the
# sources through a classmethod that takes no arguments.
_HOME_OVERRIDE: ContextVar[Path | None] = ContextVar("tracker_home_override", default=None)


def load_settings(**overrides: Any) -> Settings:
    """Settings from file and environment; keyword overrides win over both. A `home`
    override also decides where the settings file is looked for (<home>/tracker.toml)."""
    home = overrides.get("home")
    token = _HOME_OVERRIDE.set(Path(home).expanduser() if home is not None else None)
    try:
        return Settings(**overrides)
    finally:
        _HOME_OVERRIDE.reset(token)


def example_toml() -> str:
    """``config/tracker.example.toml``: every setting with its description and default."""
    lines = [
        "# tracker settings. Copy to <home>/tracker.toml (or point TRACKER_CONFIG at it).",
        "# Every setting can also be set with an environment variable TRACKER_<NAME>,",
        "# which wins over this file. Generated by `tracker config example`.",
        "",
    ]
    for name, field in Settings.model_fields.items():
        lines.append(f"# {field.description}")
        lines.append(f"# env: TRACKER_{name.upper()}")
        default = field.default
        if default is None:
            lines.append(f"# {name} = ")
        else:
            lines.append(f"# {name} = {_toml_value(default)}")
        lines.append("")
    return "\n".join(lines)


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(item) for item in value) + "]"
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'
