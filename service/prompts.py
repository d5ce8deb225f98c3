"""Versioned prompt templates: `prompts/<name>@<version>.j2`, rendered with jinja2."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import jinja2

from service.errors import InvalidInput, UnknownPrompt

PROMPTS_DIR = Path(__file__).resolve().parent.parent / "prompts"
SUFFIX = ".j2"

_env = jinja2.Environment(
    loader=jinja2.FileSystemLoader(PROMPTS_DIR),
    undefined=jinja2.StrictUndefined,
    autoescape=False,
    keep_trailing_newline=False,
)


@dataclass(frozen=True)
class RenderedPrompt:
    """Chat messages for one article, with the prompt's identity."""

    ref: str
    sha256: str
    messages: list[dict[str, str]]


@dataclass(frozen=True)
class PromptTemplate:
    """One prompt version: a jinja2 file with a block per chat role (`system`, `user`)."""

    ref: str
    sha256: str
    template: jinja2.Template
    blocks: tuple[str, ...] = ("system", "user")

    def render(self, **variables: object) -> RenderedPrompt:
        """Render each block as a message; a variable used but not given is an error."""
        try:
            context = self.template.new_context(dict(variables))
            messages = [
                {"role": role, "content": "".join(self.template.blocks[role](context)).strip()}
                for role in self.blocks
            ]
        except jinja2.UndefinedError as exc:
            raise InvalidInput(
                f"prompt {self.ref} needs a variable that was not given: {exc}"
            ) from None
        return RenderedPrompt(ref=self.ref, sha256=self.sha256, messages=messages)


def available_prompts() -> list[str]:
    """Every prompt on disk, as 'name@version', sorted."""
    return sorted(p.name.removesuffix(SUFFIX) for p in PROMPTS_DIR.glob(f"*@*{SUFFIX}"))


def extraction_prompts() -> list[str]:
    """The prompts a request may name: those with both a system and a user block."""
    usable = []
    for ref in available_prompts():
        try:
            load_prompt(ref)
        except UnknownPrompt:
            continue
        usable.append(ref)
    return usable


@cache
def load_prompt(ref: str, blocks: tuple[str, ...] = ("system", "user")) -> PromptTemplate:
    """Load a prompt by 'name@version'; raises UnknownPrompt naming the ones that exist."""
    name, sep, version = ref.partition("@")
    path = PROMPTS_DIR / f"{name}@{version}{SUFFIX}"
    if not sep or not name or not version or "/" in ref or not path.is_file():
        raise UnknownPrompt(
            f"unknown prompt {ref!r}; available: {', '.join(available_prompts()) or 'none'}"
        )
    source = path.read_bytes()
    template = _env.get_template(path.name)
    missing = set(blocks) - set(template.blocks)
    if missing:
        raise UnknownPrompt(f"prompt {ref!r} lacks block(s): {', '.join(sorted(missing))}")
    return PromptTemplate(
        ref=ref, sha256=hashlib.sha256(source).hexdigest(), template=template, blocks=blocks
    )


def fenced(value: str | None) -> str | None:
    """The text with any closing `</article>` or `</item>` tag (the prompts' delimiters)
    broken, so the article cannot end them and pass instructions to the model as if they
    came from us."""
    if value is None:
        return None
    return re.sub(r"</(\s*(?:article|item))", r"<\\/\1", value, flags=re.IGNORECASE)
