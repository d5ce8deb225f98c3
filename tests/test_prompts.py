"""Prompt templates: found by name@version, rendered strictly, identified by sha256."""

from __future__ import annotations

import hashlib

import pytest

from service.errors import InvalidInput, UnknownPrompt
from service.prompts import PROMPTS_DIR, available_prompts, load_prompt


def test_v1_exists_and_its_sha256_is_of_the_file() -> None:
    assert "news_facts@v1" in available_prompts()
    prompt = load_prompt("news_facts@v1")
    expected = hashlib.sha256((PROMPTS_DIR / "news_facts@v1.j2").read_bytes()).hexdigest()
    assert prompt.sha256 == expected


@pytest.mark.parametrize(
    ("title", "user_starts"),
    [(None, "<article>\nBody text."), ("Head", "<article>\nTitle: Head\nBody text.")],
)
def test_render_puts_instructions_first_and_article_last(
    title: str | None, user_starts: str
) -> None:
    rendered = load_prompt("news_facts@v1").render(text="Body text.", title=title)
    system, user = rendered.messages
    assert system["role"] == "system" and "evidence" in system["content"]
    assert user["role"] == "user"
    assert user["content"].startswith(user_starts)
    assert "</article>" in user["content"]
    assert rendered.ref == "news_facts@v1"


def test_article_text_is_not_interpreted_as_template() -> None:
    text = "Curly {{ braces }} and {% tags %} stay as written."
    user = load_prompt("news_facts@v1").render(text=text, title=None).messages[1]["content"]
    assert text in user


def test_missing_variable_is_an_error() -> None:
    with pytest.raises(InvalidInput, match="variable"):
        load_prompt("news_facts@v1").render(text="only text")


@pytest.mark.parametrize("ref", ["news_facts", "news_facts@v0", "nope@v1", "@v1", "../x@v1", ""])
def test_unknown_prompts_list_the_available_ones(ref: str) -> None:
    with pytest.raises(UnknownPrompt, match="news_facts@v1"):
        load_prompt(ref)
