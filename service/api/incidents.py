"""Routes of the incidents: `POST /articles`, `GET /incidents`, `GET /incidents/{id}`,
`GET /series` and the HTML view `GET /incidents/view`."""

from __future__ import annotations

import asyncio
import datetime as dt
import threading
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response

from schemas.api import ErrorResponse
from schemas.incidents import (
    MAX_PAGE,
    ArticlesRequest,
    ArticlesResponse,
    Incident,
    IncidentKind,
    IncidentPage,
    SeriesList,
)
from service.api.guard import unless_disconnected
from service.api.incidents_page import store_page
from service.api.routing import (
    ERROR_RESPONSES,
    body_spec,
    check_batch_size,
    json_answer,
    read_body,
    require_json,
)
from service.errors import InvalidInput, NotFound, StoreFailed
from service.extraction.pipeline import Pipeline
from service.intake.articles import add_articles
from service.store.store import Store, StoreError

incidents = APIRouter(responses=ERROR_RESPONSES)
ISO_DAY = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"


def _day(value: str | None) -> dt.date | None:
    """An ISO day the query gave (StoreError for one that is no day, like 2016-02-30)."""
    try:
        return dt.date.fromisoformat(value) if value else None
    except ValueError:
        raise StoreError(f"{value!r} is no day: give YYYY-MM-DD") from None


_opening = threading.Lock()


def close_store(app: object) -> None:
    """Release the store's connections, if it was opened."""
    store = getattr(getattr(app, "state", None), "store", None)
    if store is not None:
        store.close()


def open_store(request: Request) -> Store:
    """The app's store, opened (and migrated) on first use."""
    app = request.app
    with _opening:
        store = getattr(app.state, "store", None)
        if store is None:
            try:
                store = Store(app.state.pipeline.settings.db_url)
            except Exception as exc:  # the database is not there or refuses us
                raise StoreFailed(
                    f"cannot open the store (NEWSFACTS_DB_URL): {type(exc).__name__}: {exc}"
                ) from None
            app.state.store = store
    return store


async def _store(request: Request) -> Store:
    return await asyncio.to_thread(open_store, request)


StoreDep = Annotated[Store, Depends(_store)]


@incidents.post(
    "/articles",
    response_model=ArticlesResponse,
    dependencies=[Depends(require_json)],
    summary="Extract, store and group articles into incidents",
    openapi_extra=body_spec(ArticlesRequest),
)
async def post_articles(request: Request, store: StoreDep) -> Response:
    """Each article extracted as `/extract` would, stored, and the incidents it touches
    regrouped; an article already stored (same id, or same text without one) is answered
    from the store and changes nothing."""
    body = await read_body(request, ArticlesRequest)
    pipeline: Pipeline = request.app.state.pipeline
    check_batch_size(len(body.articles), pipeline.settings.max_batch_items)
    results = await unless_disconnected(request, add_articles(store, pipeline, body.articles))
    return await json_answer(ArticlesResponse(articles=results))


@incidents.get("/incidents", response_model=IncidentPage, summary="Incidents, newest first")
async def list_incidents(
    store: StoreDep,
    country: str | None = None,
    place: str | None = None,
    since: Annotated[str | None, Query(pattern=ISO_DAY, description="YYYY-MM-DD")] = None,
    until: Annotated[str | None, Query(pattern=ISO_DAY, description="YYYY-MM-DD")] = None,
    kind: IncidentKind | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
    cursor: Annotated[str | None, Query(max_length=400)] = None,
) -> Response:
    """Incidents filtered by country (ISO code or name), place (name or gazetteer id), a
    date range and kind; `next_cursor` fetches the next page."""
    try:
        page = await asyncio.to_thread(
            store.incidents,
            country=country,
            place=place,
            since=since,
            until=until,
            kind=kind,
            limit=limit,
            cursor=cursor,
        )
    except StoreError as exc:
        raise InvalidInput(str(exc)) from None
    return await json_answer(page)


@incidents.get("/incidents/view", response_class=HTMLResponse, summary="The incidents as a page")
async def view_incidents(store: StoreDep) -> HTMLResponse:
    """Every incident's reports side by side, place timelines, and the evidence."""

    return HTMLResponse(await asyncio.to_thread(store_page, store))


@incidents.get(
    "/incidents/{incident_id}",
    response_model=Incident,
    summary="One incident",
    responses={404: {"model": ErrorResponse, "description": "No such incident (not_found)."}},
)
async def get_incident(store: StoreDep, incident_id: str) -> Response:
    """One incident with every report of each measure."""
    found = await asyncio.to_thread(store.incident, incident_id)
    if found is None:
        raise NotFound(f"no incident {incident_id!r}: list them with GET /incidents")
    return await json_answer(found)


@incidents.get("/series", response_model=SeriesList, summary="Running totals by place")
async def list_series(
    store: StoreDep, country: str | None = None, measure: str | None = None
) -> Response:
    """Running totals ("780 killed since 24 February"), one series per place and measure."""
    try:
        found = await asyncio.to_thread(store.series, country, measure)
    except StoreError as exc:
        raise InvalidInput(str(exc)) from None
    return await json_answer(SeriesList(series=found))
