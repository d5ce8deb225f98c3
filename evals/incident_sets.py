"""Incident datasets: gold incidents in YAML and the articles they are built from.

A dataset is a folder holding `incidents.yaml`:

- `articles`: where the texts are. `gva` reads the Gun Violence Archive's reports where they
  lie (`../shared/gva/articles/<doc>.txt`, published on the report's `dct`), and nothing of
  them is copied here; `folder` reads `articles/<id>.txt` beside the YAML, with
  `articles/<id>.json` giving `title`, `url`, `published` and `outlet`.
- `incidents`: id, kind, place, country, date, member article ids, figures per measure
  (low / best / high), conflicts (measure and the sources that disagree).
- `series`: running totals (measure, place, the articles reporting them), which must stay
  out of every incident.

Its cassettes live in `cassettes/` beside it, one per article.
"""

from __future__ import annotations

import datetime as dt
import json
import random
from collections import Counter
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from evals.gold import ROOT
from evals.gold_files import safe_id
from evals.gva import GVA_DIR, Incident, load_incidents
from schemas.incidents import ArticleIn, IncidentKind
from service.incidents.identity import outlet_of

INCIDENT_SETS_DIR = ROOT / "evals" / "datasets"
GVA_SET = INCIDENT_SETS_DIR / "gva_incidents"


class IncidentSetError(Exception):
    """An incident dataset that cannot be read: the message names the file and the fix."""


class GoldFigure(BaseModel):
    """A measure's reconciled figure as a careful reader gives it."""

    model_config = ConfigDict(extra="forbid")

    low: int | None = None
    best: int
    high: int | None = None


class GoldConflict(BaseModel):
    """Sources that disagree on a measure (outlet names or article ids)."""

    model_config = ConfigDict(extra="forbid")

    measure: str
    sources: list[str] = Field(min_length=2)


class GoldIncident(BaseModel):
    """One incident: which articles report it and what it counts."""

    model_config = ConfigDict(extra="forbid")

    id: str
    kind: IncidentKind
    place: str | None = None
    country: str | None = None
    date: str | None = None  # ISO day, or "start/end"
    articles: list[str] = Field(min_length=1)
    figures: dict[str, GoldFigure] = Field(default_factory=dict)
    conflicts: list[GoldConflict] = Field(default_factory=list)


class GoldSeries(BaseModel):
    """A running total: its measure, place and the articles that report it."""

    model_config = ConfigDict(extra="forbid")

    measure: str
    place: str | None = None
    articles: list[str] = Field(min_length=1)


class IncidentGold(BaseModel):
    """The whole `incidents.yaml`."""

    model_config = ConfigDict(extra="forbid")

    name: str
    articles: Literal["gva", "folder"]
    sample: str = ""  # how the incidents were chosen, in words
    incidents: list[GoldIncident]
    series: list[GoldSeries] = Field(default_factory=list)


@dataclass(frozen=True)
class IncidentSet:
    """A gold incident dataset and where its articles and cassettes are."""

    folder: Path
    gold: IncidentGold

    @property
    def cassettes_dir(self) -> Path:
        """One cassette per article, under the recording's name."""
        return self.folder / "cassettes"

    @property
    def article_ids(self) -> list[str]:
        """Every article of the set, in the YAML's order, once."""
        ids = [a for i in self.gold.incidents for a in i.articles]
        ids += [a for s in self.gold.series for a in s.articles]
        return list(dict.fromkeys(ids))

    def articles(self, gva_dir: Path = GVA_DIR) -> list[ArticleIn]:
        """The articles, read where they lie; IncidentSetError names a missing one."""
        read = self._gva_article if self.gold.articles == "gva" else self._folder_article
        return [read(safe_id(a), gva_dir) for a in self.article_ids]

    def _gva_article(self, doc: str, gva_dir: Path) -> ArticleIn:
        path = gva_dir / "articles" / f"{doc}.txt"
        if not path.is_file():
            raise IncidentSetError(f"no {path}: point the eval at ../shared/gva")
        meta = _gva_meta(gva_dir).get(doc, {})
        text = path.read_text(encoding="utf-8")
        return ArticleIn(
            id=doc,
            text=text,
            title=text.split("\n", 1)[0].strip() or None,
            url=meta.get("uri"),
            published=_day(meta.get("dct")),
            outlet=outlet_of(meta.get("uri")),
        )

    def _folder_article(self, article_id: str, _gva_dir: Path) -> ArticleIn:
        path = self.folder / "articles" / f"{article_id}.txt"
        if not path.is_file():
            raise IncidentSetError(f"no {path}: every article the YAML names needs its text")
        meta_path = path.with_suffix(".json")
        meta = json.loads(meta_path.read_text(encoding="utf-8")) if meta_path.is_file() else {}
        return ArticleIn(id=article_id, text=path.read_text(encoding="utf-8"), **meta)


@cache
def _gva_meta(gva_dir: Path) -> dict[str, dict[str, str]]:
    """Each GVA report's day and address, by document id."""
    return {
        d.doc: {"dct": d.dct or "", "uri": d.uri or ""}
        for i in load_incidents(gva_dir)
        for d in i.docs
    }


def _day(value: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value) if value else None
    except ValueError:
        return None


def load_incident_set(folder: Path) -> IncidentSet:
    """The dataset in `folder`; IncidentSetError says what is wrong with it."""
    path = folder / "incidents.yaml"
    if not path.is_file():
        raise IncidentSetError(f"no {path}: an incident dataset is a folder with incidents.yaml")
    try:
        gold = IncidentGold.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
    except (yaml.YAMLError, ValidationError) as exc:
        raise IncidentSetError(f"{path}: {exc}") from None
    seen = Counter(a for i in gold.incidents for a in i.articles)
    doubled = sorted(a for a, n in seen.items() if n > 1)
    if doubled:
        raise IncidentSetError(f"{path}: articles in two incidents: {', '.join(doubled[:5])}")
    return IncidentSet(folder, gold)


def _readable(incident: Incident, gva_dir: Path, per_incident: int) -> list[str]:
    docs = [d.doc for d in incident.docs if (gva_dir / "articles" / f"{d.doc}.txt").is_file()]
    return docs[:per_incident]


def gva_sample(
    gva_dir: Path = GVA_DIR, size: int = 64, crowded: int = 4, per_incident: int = 3, seed: int = 0
) -> IncidentGold:
    """A stated sample of multi-report incidents: every city among the `crowded` with the
    most such incidents gives `crowded` of them (one city, several incidents on different
    days: the hard case for grouping), and the rest are drawn at random with `seed`; each
    incident keeps up to `per_incident` of its reports, in the archive's order."""
    multi = [i for i in load_incidents(gva_dir) if len(_readable(i, gva_dir, 9)) >= 2]
    multi.sort(key=lambda i: int(i.id) if i.id.isdigit() else 0)
    cities = Counter((i.city, i.state) for i in multi)
    busy = [c for c, _ in cities.most_common(crowded)]
    rng = random.Random(seed)
    chosen = [
        x for c in busy for x in rng.sample([i for i in multi if (i.city, i.state) == c], crowded)
    ]
    rest = [i for i in multi if i not in chosen]
    chosen += rng.sample(rest, size - len(chosen))
    incidents = [
        GoldIncident(
            id=i.id,
            kind="casualties",
            place=i.city,
            country="US",
            date=_gva_day(i.date),
            articles=_readable(i, gva_dir, per_incident),
            figures={
                "killed": GoldFigure(best=i.num_killed),
                "injured": GoldFigure(best=i.num_injured),
            },
        )
        for i in chosen
    ]
    sample = (
        f"{size} GVA incidents of 2014-2016 with two or more reports: {crowded} from "
        f"each of the {crowded} cities with the most, the rest drawn with seed {seed}; "
        f"up to {per_incident} reports each"
    )
    return IncidentGold(name="gva_incidents", articles="gva", sample=sample, incidents=incidents)


def _gva_day(text: str) -> str | None:
    try:
        return dt.datetime.strptime(text, "%B %d, %Y").date().isoformat()
    except ValueError:
        return None


def write_gold(gold: IncidentGold, folder: Path) -> Path:
    """`gold` as `folder/incidents.yaml`."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "incidents.yaml"
    body = gold.model_dump(mode="json", exclude_defaults=True)
    path.write_text(yaml.safe_dump(body, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path
