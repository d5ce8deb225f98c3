"""The store's tables (SQLAlchemy 2 declarative); alembic's migrations make and move them."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Date, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    """The declarative base of every table."""


class ArticleRow(Base):
    """One stored article, its extraction and its normalised facts."""

    __tablename__ = "articles"

    id: Mapped[str] = mapped_column(String(160), primary_key=True)
    digest: Mapped[str] = mapped_column(String(64), index=True)
    title: Mapped[str | None] = mapped_column(Text)
    url: Mapped[str | None] = mapped_column(Text)
    outlet: Mapped[str | None] = mapped_column(String(200))
    published: Mapped[dt.date | None] = mapped_column(Date)
    text: Mapped[str] = mapped_column(Text)
    facts: Mapped[dict[str, Any]] = mapped_column(JSON)
    extraction: Mapped[dict[str, Any]] = mapped_column(JSON)
    added_at: Mapped[dt.datetime] = mapped_column(DateTime)


class MentionRow(Base):
    """What one article says of one event, and the incident it is part of."""

    __tablename__ = "mentions"
    __table_args__ = (Index("ix_mentions_block", "family", "country", "day"),)

    id: Mapped[str] = mapped_column(String(200), primary_key=True)
    article_id: Mapped[str] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"))
    family: Mapped[str] = mapped_column(String(20))
    country: Mapped[str] = mapped_column(String(8))  # "" when unplaced
    day: Mapped[dt.date | None] = mapped_column(Date)
    incident_id: Mapped[str | None] = mapped_column(String(40), index=True)
    body: Mapped[dict[str, Any]] = mapped_column(JSON)


class IncidentRow(Base):
    """One incident, as the API answers it, with the columns its filters read."""

    __tablename__ = "incidents"
    __table_args__ = (Index("ix_incidents_order", "sort_day", "id"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    country: Mapped[str] = mapped_column(String(8))
    place: Mapped[str] = mapped_column(String(200))  # name key, "" when unplaced
    gazetteer_id: Mapped[str] = mapped_column(String(60))
    start: Mapped[dt.date | None] = mapped_column(Date)
    end: Mapped[dt.date | None] = mapped_column(Date)
    sort_day: Mapped[str] = mapped_column(String(10))  # the end day, "0000-00-00" when unknown
    body: Mapped[dict[str, Any]] = mapped_column(JSON)


class SeriesPointRow(Base):
    """One running total as one article reports it."""

    __tablename__ = "series_points"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    article_id: Mapped[str] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"))
    series_id: Mapped[str] = mapped_column(String(40), index=True)
    measure: Mapped[str] = mapped_column(String(40))
    country: Mapped[str] = mapped_column(String(8))
    body: Mapped[dict[str, Any]] = mapped_column(JSON)


class LockRow(Base):
    """A row a regrouping locks (SELECT ... FOR UPDATE), so replicas regroup one at a time."""

    __tablename__ = "locks"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
