"""Settings come from NEWSFACTS_* variables, keep secrets secret, and explain bad values."""

from __future__ import annotations

from pathlib import Path

import pytest

from service.errors import ConfigError
from service.settings import Settings, load_settings

SMALL = "qwen2.5-coder-0.5b-instruct"


def test_defaults_use_the_embedded_model(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)  # no .env here
    settings = load_settings()
    assert settings.embedded
    assert settings.llm_model == "qwen2.5-coder-1.5b-instruct"
    assert settings.default_prompt == "news_facts@v2"


def _load(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, env: dict[str, str]) -> Settings:
    """Settings loaded in an empty working directory with `env` set."""
    monkeypatch.chdir(tmp_path)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return load_settings()


@pytest.mark.parametrize(
    ("env", "attr", "expected"),
    [
        ({"NEWSFACTS_LLM_BASE_URL": "https://api.openai.com/v1"}, "embedded", False),
        ({"NEWSFACTS_LLM_MODEL": "gpt-4o-mini"}, "llm_model", "gpt-4o-mini"),
        ({"NEWSFACTS_MAX_TEXT_CHARS": "500"}, "max_text_chars", 500),
        ({"NEWSFACTS_LLM_TEMPERATURE": "0.3"}, "llm_temperature", 0.3),
        ({"NEWSFACTS_MODEL_PATH": "/models/x.gguf"}, "model_path", Path("/models/x.gguf")),
        # The bundled model's name is the model name, unless one is set.
        ({"NEWSFACTS_EMBEDDED_MODEL": SMALL}, "llm_model", SMALL),
        ({"NEWSFACTS_EMBEDDED_MODEL": SMALL, "NEWSFACTS_LLM_MODEL": "mine"}, "llm_model", "mine"),
    ],
)
def test_environment_overrides(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    env: dict[str, str],
    attr: str,
    expected: object,
) -> None:
    assert getattr(_load(monkeypatch, tmp_path, env), attr) == expected


def test_a_dotenv_file_is_read_only_when_named(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text("NEWSFACTS_LLM_MODEL=from-dotenv\n")
    assert load_settings().llm_model != "from-dotenv"  # one in the working directory: no
    monkeypatch.setenv("NEWSFACTS_ENV_FILE", str(tmp_path / ".env"))
    assert load_settings().llm_model == "from-dotenv"


def test_a_named_dotenv_file_that_is_missing_stops_start_up(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("NEWSFACTS_ENV_FILE", str(tmp_path / "nope.env"))
    with pytest.raises(ConfigError, match="NEWSFACTS_ENV_FILE"):
        load_settings()


@pytest.mark.parametrize(
    ("env", "refused"),
    [
        ({"NEWSFACTS_HOST": "0.0.0.0"}, True),
        ({"NEWSFACTS_HOST": "::"}, True),
        ({"NEWSFACTS_HOST": "10.1.2.3"}, True),
        ({"NEWSFACTS_HOST": "127.0.0.1"}, False),
        ({"NEWSFACTS_HOST": "::1"}, False),
        ({"NEWSFACTS_HOST": "localhost"}, False),
        ({"NEWSFACTS_HOST": "0.0.0.0", "NEWSFACTS_API_TOKEN": "t0ken-long-enough"}, False),
        ({"NEWSFACTS_HOST": "0.0.0.0", "NEWSFACTS_ALLOW_OPEN": "true"}, False),
    ],
)
def test_no_open_listener_without_a_token(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, env: dict[str, str], refused: bool
) -> None:
    if refused:
        with pytest.raises(ConfigError, match="NEWSFACTS_API_TOKEN"):
            _load(monkeypatch, tmp_path, env)
    else:
        assert _load(monkeypatch, tmp_path, env).host == env["NEWSFACTS_HOST"]


@pytest.mark.parametrize("name", ["NEWSFACTS_LLM_API_KEY", "NEWSFACTS_API_TOKEN"])
def test_secrets_are_hidden(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, name: str) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv(name, "sk-supersecret-123456")
    settings = load_settings()
    assert "sk-supersecret" not in repr(settings)
    assert "sk-supersecret" not in settings.model_dump_json()


@pytest.mark.parametrize(
    ("env", "mentions"),
    [
        ({"NEWSFACTS_LLM_BASE_URL": "api.openai.com"}, "NEWSFACTS_LLM_BASE_URL"),
        ({"NEWSFACTS_MAX_TEXT_CHARS": "lots"}, "NEWSFACTS_MAX_TEXT_CHARS"),
        ({"NEWSFACTS_LLM_TEMPERATURE": "9"}, "NEWSFACTS_LLM_TEMPERATURE"),
        ({"NEWSFACTS_MAX_INFLIGHT": "0"}, "NEWSFACTS_MAX_INFLIGHT"),
        ({"NEWSFACTS_EMBEDDED_MODEL": "qwen-7b"}, "NEWSFACTS_EMBEDDED_MODEL"),
    ],
)
def test_bad_values_name_the_variable_to_fix(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, env: dict[str, str], mentions: str
) -> None:
    with pytest.raises(ConfigError, match=mentions):
        _load(monkeypatch, tmp_path, env)


@pytest.mark.parametrize(
    ("env", "limits"),
    [
        ({}, (4, 32)),  # the embedded model: one call at a time on this CPU
        ({"NEWSFACTS_LLM_BASE_URL": "https://api.openai.com/v1"}, (64, 512)),
        ({"NEWSFACTS_LLM_BASE_URL": "http://vllm:8000/v1", "NEWSFACTS_MAX_QUEUE": "8"}, (64, 8)),
        ({"NEWSFACTS_MAX_INFLIGHT": "1"}, (1, 32)),
    ],
    ids=["embedded", "remote", "remote-queue-set", "embedded-inflight-set"],
)
def test_load_limits_follow_the_backend_unless_set(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, env: dict[str, str], limits: tuple[int, int]
) -> None:
    settings = _load(monkeypatch, tmp_path, env)
    assert (settings.max_inflight, settings.max_queue) == limits


@pytest.mark.parametrize(
    ("token", "says"),
    [
        ("", "empty or blank"),
        ("   ", "empty or blank"),
        ("\n", "empty or blank"),
        ("\t \n", "empty or blank"),
        (" t0ken-long-enough", "whitespace"),
        ("t0ken-long-enough\n", "whitespace"),
    ],
    ids=["empty", "spaces", "newline", "mixed", "leading-space", "trailing-newline"],
)
def test_a_blank_token_in_the_variable_is_refused(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, token: str, says: str
) -> None:
    """An unset variable under compose `secrets` arrives as "": no token, and not one that
    a client sending none (or anyone, with a lenient parser) matches."""
    env = {"NEWSFACTS_HOST": "0.0.0.0", "NEWSFACTS_API_TOKEN": token}
    with pytest.raises(ConfigError, match=rf"NEWSFACTS_API_TOKEN: .*{says}") as refused:
        _load(monkeypatch, tmp_path, env)
    if says == "empty or blank":
        assert "openssl rand -hex 24" in refused.value.message  # says how to set one


@pytest.mark.parametrize("content", ["", "   ", "\n", " \t\n\n"])
def test_a_blank_secret_file_is_refused(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, content: str
) -> None:
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    (secrets / "newsfacts_api_token").write_text(content)
    env = {"NEWSFACTS_SECRETS_DIR": str(secrets)}
    with pytest.raises(ConfigError, match=r"NEWSFACTS_API_TOKEN: .*empty or blank.*secret file"):
        _load(monkeypatch, tmp_path, env)


def test_a_secret_file_keeps_its_token_without_the_final_newline(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    (secrets / "newsfacts_api_token").write_text("t0ken-long-enough\n")  # as `echo` writes it
    settings = _load(monkeypatch, tmp_path, {"NEWSFACTS_SECRETS_DIR": str(secrets)})
    assert settings.api_token is not None
    assert settings.api_token.get_secret_value() == "t0ken-long-enough"
