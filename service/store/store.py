"""The store's operations: add an article's extraction, regroup what it touches, read back.

Each article goes in in one transaction with the incidents it changes: a run killed
mid-add loses nothing it had committed and leaves no half article, and adding it again
finds it (by id, or by the sha256 of its text) and changes nothing.
"""

from __future__ import annotations

import base64
import datetime as dt
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, func, or_, select, tuple_
from sqlalchemy.orm import Session, sessionmaker

from schemas.api import ExtractResponse
from schemas.incidents import ArticleIn, ArticleResult, Incident, IncidentPage, Series
from service.folding import name_key
from service.incidents.grouping import REACH_DAYS, group
from service.incidents.identity import article_id, text_digest
from service.incidents.mentions import ArticleIntake, Mention, SeriesReport, read_article
from service.incidents.places import gazetteer
from service.incidents.reconcile import build_incident, build_series, series_key
from service.store.tables import ArticleRow, IncidentRow, LockRow, MentionRow, SeriesPointRow

MIGRATIONS = Path(__file__).parent / "migrations"
MAX_NEAR = 5000  # stored mentions one new mention may be compared with: bounded work per article
REGROUP_LOCK = "regroup"
NO_DAY = "0000-00-00"


class StoreError(Exception):
    """A store that cannot be opened or a query it cannot answer: the message says why."""


def _sqlite_immediate(engine: Engine) -> None:
    """SQLite transactions take the write lock at BEGIN (SQLAlchemy's pysqlite recipe), so
    two writers queue instead of failing to upgrade a read lock."""

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        dbapi_connection.execute("PRAGMA foreign_keys=ON")

    @event.listens_for(engine, "begin")
    def _begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def migrate(engine: Engine) -> None:
    """Bring the database's schema to the newest migration."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


class Store:
    """Articles, mentions, incidents and running totals in one database."""

    def __init__(self, url: str) -> None:
        try:
            sqlite = url.startswith("sqlite")
            connect = {"timeout": 60} if sqlite else {}
            self.engine = create_engine(url, connect_args=connect, pool_pre_ping=not sqlite)
        except Exception as exc:  # a malformed URL or a missing driver
            raise StoreError(f"cannot open the store at {url!r}: {exc}") from None
        if sqlite:
            _sqlite_immediate(self.engine)
        migrate(self.engine)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    def close(self) -> None:
        """Release the database's connections."""
        self.engine.dispose()

    @contextmanager
    def _transaction(self) -> Iterator[Session]:
        with self._sessions() as session, session.begin():
            yield session

    def find(self, article: ArticleIn) -> ArticleResult | None:
        """The stored article with this id (or, without one, this text), or None."""
        with self._sessions() as session:
            row = self._stored(session, article)
            return self._result(session, row, stored=False) if row else None

    def _stored(self, session: Session, article: ArticleIn) -> ArticleRow | None:
        if article.id:
            return session.get(ArticleRow, article.id)
        found = select(ArticleRow).where(ArticleRow.digest == text_digest(article.text))
        return session.scalars(found).first()

    def _result(self, session: Session, row: ArticleRow, stored: bool) -> ArticleResult:
        ids = session.scalars(
            select(MentionRow.incident_id).where(MentionRow.article_id == row.id)
        ).all()
        incidents = sorted({i for i in ids if i})
        return ArticleResult(id=row.id, facts=row.facts, incidents=incidents, stored=stored)

    def add(self, article: ArticleIn, response: ExtractResponse) -> ArticleResult:
        """Store the article with its extraction and regroup the incidents it touches, in
        one transaction; an article already stored is answered as it is."""
        spans = {
            g.path: (g.start, g.end)
            for g in response.grounding
            if g.start is not None and g.end is not None
        }
        published = article.published
        day = published.date() if isinstance(published, dt.datetime) else published
        intake = ArticleIntake(
            id=article_id(article),
            text=article.text,
            title=article.title,
            published=day,
            outlet=article.outlet,
        )
        reading = read_article(intake, response.facts, spans)
        with self._transaction() as session:
            self._lock(session)
            row = self._stored(session, article)
            if row is not None:
                return self._result(session, row, stored=False)
            row = ArticleRow(
                id=intake.id,
                digest=text_digest(article.text),
                title=article.title,
                url=article.url,
                outlet=article.outlet,
                published=day,
                text=article.text,
                facts=reading.facts,
                extraction=response.model_dump(mode="json"),
                added_at=dt.datetime.now(dt.UTC).replace(tzinfo=None),
            )
            session.add(row)
            session.flush()
            mentions = [_mention_row(m) for m in reading.mentions]
            session.add_all(mentions)
            session.add_all(_series_row(p) for p in reading.series)
            session.flush()
            self._regroup(session, mentions)
            return self._result(session, row, stored=True)

    def _lock(self, session: Session) -> None:
        """Serialise regroupings across replicas (PostgreSQL row lock; SQLite's write lock
        is already held from BEGIN IMMEDIATE)."""
        held = session.scalars(
            select(LockRow).where(LockRow.name == REGROUP_LOCK).with_for_update()
        ).first()
        if held is None:
            session.add(LockRow(name=REGROUP_LOCK))
            session.flush()

    def _near(self, session: Session, new: list[MentionRow]) -> list[MentionRow]:
        """The stored mentions a new one could be linked to (its family and country, its
        days or its publication day within the grouping's reach), and every mention of the
        incidents they are part of."""
        seen = {row.id: row for row in new}
        reach = dt.timedelta(days=REACH_DAYS + 1)
        for row in new:
            query = (
                select(MentionRow)
                .join(ArticleRow, MentionRow.article_id == ArticleRow.id)
                .where(MentionRow.family == row.family, MentionRow.id.not_in(seen))
            )
            if row.country:
                query = query.where(MentionRow.country.in_([row.country, ""]))
            days = _days_of(row)
            if days:
                query = query.where(
                    or_(
                        MentionRow.day.is_(None),
                        *(MentionRow.day.between(d - reach, d + reach) for d in days),
                        *(ArticleRow.published.between(d - reach, d + reach) for d in days),
                    )
                )
            for found in session.scalars(query.limit(MAX_NEAR)):
                seen.setdefault(found.id, found)
        incidents = {r.incident_id for r in seen.values() if r.incident_id}
        if incidents:
            members = select(MentionRow).where(MentionRow.incident_id.in_(incidents))
            for found in session.scalars(members.limit(MAX_NEAR)):
                seen.setdefault(found.id, found)
        return list(seen.values())

    def _regroup(self, session: Session, new: list[MentionRow]) -> None:
        """The new mentions joined to the incidents they link to; incidents they do not
        touch are left as they are."""
        if not new:
            return
        rows = self._near(session, new)
        old = {r.incident_id for r in rows if r.incident_id}
        mentions = [Mention.model_validate(r.body) for r in rows]
        by_id = {r.id: r for r in rows}
        claimed: set[str] = set()
        for component in group(mentions, settled=[r.incident_id for r in rows]):
            ids = {by_id[m.id].incident_id for m in component}
            if None not in ids and len(ids) == 1:  # an incident no new mention joined
                old -= ids
                continue
            # An incident keeps its id when articles join it: the id most of its mentions had.
            had = Counter(
                i for m in component if (i := by_id[m.id].incident_id) and i not in claimed
            )
            known = min(had, key=lambda i: (-had[i], i)) if had else None
            incident = build_incident(component, known)
            claimed.add(incident.id)
            for mention in component:
                by_id[mention.id].incident_id = incident.id
            old.discard(incident.id)
            session.merge(_incident_row(incident))
        for stale in old:
            gone = session.get(IncidentRow, stale)
            if gone is not None:
                session.delete(gone)

    def incidents(
        self,
        *,
        country: str | None = None,
        place: str | None = None,
        since: dt.date | None = None,
        until: dt.date | None = None,
        kind: str | None = None,
        limit: int = 50,
        cursor: str | None = None,
    ) -> IncidentPage:
        """Incidents newest first, filtered, one page from `cursor` on."""
        query = select(IncidentRow)
        if country:
            query = query.where(IncidentRow.country == _country_code(country))
        if place:
            key = name_key(place)
            query = query.where(or_(IncidentRow.place == key, IncidentRow.gazetteer_id == place))
        if since:
            query = query.where(or_(IncidentRow.end >= since, IncidentRow.start >= since))
        if until:
            query = query.where(IncidentRow.start <= until)
        if kind:
            query = query.where(IncidentRow.kind == kind)
        if cursor:
            day, last = _read_cursor(cursor)
            query = query.where(tuple_(IncidentRow.sort_day, IncidentRow.id) < (day, last))
        query = query.order_by(IncidentRow.sort_day.desc(), IncidentRow.id.desc()).limit(limit + 1)
        with self._sessions() as session:
            rows = session.scalars(query).all()
        page = [Incident.model_validate(r.body) for r in rows[:limit]]
        more = len(rows) > limit
        next_cursor = _write_cursor(rows[limit - 1].sort_day, rows[limit - 1].id) if more else None
        return IncidentPage(incidents=page, next_cursor=next_cursor)

    def incident(self, incident_id: str) -> Incident | None:
        """One incident by id, or None."""
        with self._sessions() as session:
            row = session.get(IncidentRow, incident_id)
            return Incident.model_validate(row.body) if row else None

    def series(self, country: str | None = None, measure: str | None = None) -> list[Series]:
        """Every running-total series, filtered by country and measure."""
        query = select(SeriesPointRow)
        if country:
            query = query.where(SeriesPointRow.country == _country_code(country))
        if measure:
            query = query.where(SeriesPointRow.measure == measure)
        with self._sessions() as session:
            points = [SeriesReport.model_validate(r.body) for r in session.scalars(query)]
        return build_series(points)

    def articles(self, ids: Iterable[str]) -> dict[str, ArticleRow]:
        """The stored articles of these ids, by id (for the HTML view's evidence)."""
        wanted = sorted(set(ids))
        with self._sessions() as session:
            query = select(ArticleRow).where(ArticleRow.id.in_(wanted))
            return {r.id: r for r in session.scalars(query)}

    def mentions(self) -> list[Mention]:
        """Every stored mention (the eval's baseline regroups them its own way)."""
        with self._sessions() as session:
            return [Mention.model_validate(r.body) for r in session.scalars(select(MentionRow))]

    def counts(self) -> dict[str, int]:
        """How many rows each table holds."""
        with self._sessions() as session:
            return {
                table.__tablename__: session.scalar(select(func.count()).select_from(table)) or 0
                for table in (ArticleRow, MentionRow, IncidentRow, SeriesPointRow)
            }


def _country_code(value: str) -> str:
    if len(value) == 2 and value.isalpha():
        return value.upper()
    code = gazetteer().countries.get(name_key(value))
    if code is None:
        raise StoreError(f"unknown country {value!r}: give its ISO 3166 alpha-2 code or name")
    return code


def _write_cursor(day: str, last: str) -> str:
    return base64.urlsafe_b64encode(f"{day}|{last}".encode()).decode().rstrip("=")


def _read_cursor(cursor: str) -> tuple[str, str]:
    try:
        day, last = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode().split("|")
    except (ValueError, UnicodeDecodeError):
        raise StoreError("cursor is not one this service gave: start again without it") from None
    return day, last


def _days_of(row: MentionRow) -> list[dt.date]:
    """The days a mention row may be about: its text's day and its publication day."""
    published = row.body.get("published")
    days = {row.day} if row.day else set()
    if published:
        days.add(dt.date.fromisoformat(published))
    return sorted(days)


def _mention_row(mention: Mention) -> MentionRow:
    day = mention.date.start if mention.date else None
    country = mention.place.country if mention.place and mention.place.country else ""
    return MentionRow(
        id=mention.id,
        article_id=mention.article,
        family=mention.family,
        country=country,
        day=day,
        body=mention.model_dump(mode="json"),
    )


def _series_row(point: SeriesReport) -> SeriesPointRow:
    country = point.place.country if point.place and point.place.country else ""
    return SeriesPointRow(
        article_id=point.article,
        series_id=series_key(point),
        measure=point.measure,
        country=country,
        body=point.model_dump(mode="json"),
    )


def _incident_row(incident: Incident) -> IncidentRow:
    place = incident.place
    end = incident.date.end or incident.date.start
    return IncidentRow(
        id=incident.id,
        kind=incident.kind,
        country=(place.country or "") if place else "",
        place=name_key(place.name) if place else "",
        gazetteer_id=(place.gazetteer_id or "") if place else "",
        start=incident.date.start,
        end=end,
        sort_day=end.isoformat() if end else NO_DAY,
        body=incident.model_dump(mode="json"),
    )


def all_incidents(store: Store) -> list[Incident]:
    """Every incident, newest first."""
    found: list[Incident] = []
    cursor = None
    while True:
        page = store.incidents(limit=500, cursor=cursor)
        found += page.incidents
        if page.next_cursor is None:
            return found
        cursor = page.next_cursor
