"""The search page, GET /search?q=: which stories ever said something (services.search)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import HTMLResponse

from tracker.services.search import SearchError, SearchResults, search
from tracker.web import queries
from tracker.web.api import SafeText
from tracker.web.deps import database
from tracker.web.pages import render

router = APIRouter()

STORIES_PER_PAGE = 20


@router.get("/search", response_class=HTMLResponse)
def search_page(
    request: Request,
    q: Annotated[SafeText, Query(max_length=500)] = "",
    tag: Annotated[SafeText, Query(max_length=100)] = "",
    site: Annotated[SafeText, Query(max_length=253)] = "",
    offset: Annotated[int, Query(ge=0, le=10**9)] = 0,
) -> Response:
    problem = None
    results: SearchResults | None = None
    with database(request).read_session() as session:
        tags = queries.all_tags(session)
        if q.strip():
            try:
                results = search(
                    session,
                    q,
                    limit=STORIES_PER_PAGE,
                    offset=offset,
                    tag=tag or None,
                    site=site or None,
                )
            except SearchError as exc:
                problem = str(exc)
        session.expunge_all()
    return render(
        request,
        "search.html",
        status_code=400 if problem else 200,
        q=q,
        tag=tag,
        site=site,
        tags=tags,
        results=results,
        problem=problem,
    )
