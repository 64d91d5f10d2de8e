"""The Jobs page: list and filter posts, add and change one, close it, import a CSV."""

from __future__ import annotations

from typing import Any

from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from caseworker.casework import CaseworkError
from caseworker.dashboard import audit
from caseworker.dashboard.web import (
    PREFIX,
    explain,
    language,
    me,
    now,
    page_number,
    render,
    unit_of_work,
)
from caseworker.dashboard.words import problem, word
from caseworker.jobs import (
    POST_FIELDS,
    JobFilter,
    close_post,
    find_posts,
    import_posts,
    post_fields,
    save_post,
)
from db.job_import import STATUSES, ImportReport
from db.models import JobPost
from reference import load_reference

# A CSV larger than this is refused before it is read (the guard allows 8 MB bodies in all).
MAX_CSV_BYTES = 4 * 1024 * 1024


def _choices() -> dict[str, Any]:
    reference = load_reference()
    return {
        "places": [place.name for place in reference.places],
        "categories": [(c.slug, c.name) for c in reference.categories],
        "statuses": sorted(STATUSES),
    }


def _list(request: Request, status: int = 200, **values: Any) -> Response:
    query = request.query_params
    wanted = JobFilter(
        words=query.get("words", "")[:80],
        place=query.get("place", ""),
        category=query.get("category", ""),
        status=query.get("status", ""),
    )
    with unit_of_work(request) as session:
        found = find_posts(session, wanted, page_number(request))
        listed = [post_fields(post) | {"id": post.id} for post in found.posts]
    values.setdefault("report", None)
    values.setdefault("report_ok", True)
    values.setdefault("problem", None)
    return render(
        request,
        "jobs.html",
        status,
        title="jobs",
        wanted=wanted,
        found=found,
        posts=listed,
        saved=query.get("saved", ""),
        closed=query.get("closed", ""),
        **_choices(),
        **values,
    )


def jobs_page(request: Request) -> Response:
    """Posts by place, 50 a page, with filters and the CSV upload."""
    return _list(request)


def _form(
    request: Request, post_id: int | None, entered: dict[str, str], status: int = 200, **extra: Any
) -> Response:
    extra.setdefault("problem_text", None)
    return render(
        request,
        "job_form.html",
        status,
        title="jobs",
        post_id=post_id,
        entered=entered,
        fields=POST_FIELDS,
        **_choices(),
        **extra,
    )


def new_job_page(request: Request) -> Response:
    """An empty form for a new post."""
    return _form(request, None, {"openings": "1", "status": "open", "public_welfare": "no"})


def edit_job_page(request: Request) -> Response:
    """The form for one post, filled in."""
    post_id = int(request.path_params["post_id"])
    with unit_of_work(request) as session:
        post = session.get(JobPost, post_id)
        if post is None:
            return render(request, "message.html", 404, message="not_found")
        entered = post_fields(post)
    return _form(request, post_id, entered)


async def save_job(request: Request) -> Response:
    """Add or change a post from the form; a bad field is named and nothing is stored."""
    staff = me(request)
    raw = request.path_params.get("post_id")
    post_id = int(raw) if raw is not None else None
    form = await request.form()
    entered = {name: str(form.get(name, ""))[:400] for name in POST_FIELDS}
    entered["public_welfare"] = "yes" if form.get("public_welfare") else "no"
    try:
        with unit_of_work(request) as session:
            before = None
            if post_id is not None:
                found = session.get(JobPost, post_id)
                before = post_fields(found) if found is not None else None
            post = save_post(session, entered, load_reference(), now(request), post_id)
            action = "job.add" if post_id is None else "job.edit"
            audit.record(session, staff, action, post.code, now(request), before, post_fields(post))
            code = post.code
    except CaseworkError as error:
        return _form(request, post_id, entered, 400, problem_text=explain(request, error))
    return RedirectResponse(f"{PREFIX}/jobs?saved={code}", status_code=303)


async def close_job(request: Request) -> Response:
    """Withdraw a post: seekers no longer see it."""
    staff = me(request)
    post_id = int(request.path_params["post_id"])
    with unit_of_work(request) as session:
        post = session.get(JobPost, post_id)
        if post is None:
            return render(request, "message.html", 404, message="not_found")
        before = post_fields(post)
        close_post(session, post.code)
        audit.record(
            session, staff, "job.close", post.code, now(request), before, post_fields(post)
        )
        code = post.code
    return RedirectResponse(f"{PREFIX}/jobs?closed={code}", status_code=303)


def _report_lines(lang: str, report: ImportReport) -> list[str]:
    """The CLI's import report (caseworker.jobs.report_lines) in the staff member's words."""
    if report.held_back:
        head = word(lang, "import_held_back", rejected=len(report.rejected), held=report.held_back)
    else:
        head = word(
            lang,
            "import_done",
            added=report.added,
            updated=report.updated,
            unchanged=report.unchanged,
            rejected=len(report.rejected),
        )
    return [
        head,
        *(
            word(
                lang,
                "import_line",
                line=row.line,
                why=problem(lang, row.problem) if row.problem is not None else row.reason,
            )
            for row in report.rejected
        ),
    ]


async def import_jobs_csv(request: Request) -> Response:
    """Import an uploaded CSV whole, or nothing of it, with the CLI's row-by-row report."""
    staff = me(request)
    lang = language(request)
    form = await request.form()
    upload = form.get("file")
    if not isinstance(upload, UploadFile) or not upload.filename:
        return _list(request, 400, problem="choose_csv")
    data = await upload.read(MAX_CSV_BYTES + 1)
    if len(data) > MAX_CSV_BYTES:
        return _list(request, 400, problem="csv_too_large")
    try:
        with unit_of_work(request) as session:
            report = import_posts(session, data, load_reference(), now(request), whole_file=True)
            if not report.rejected:
                audit.record(
                    session,
                    staff,
                    "jobs.import",
                    upload.filename,
                    now(request),
                    None,
                    {"added": report.added, "updated": report.updated},
                )
    except CaseworkError as error:
        why = word(lang, "nothing_imported", why=explain(request, error))
        return _list(request, 400, report=[why], report_ok=False)
    lines = _report_lines(lang, report)
    return _list(
        request, 400 if report.rejected else 200, report=lines, report_ok=not report.rejected
    )


routes = [
    Route("/jobs", jobs_page, methods=["GET"]),
    Route("/jobs/new", new_job_page, methods=["GET"]),
    Route("/jobs/new", save_job, methods=["POST"]),
    Route("/jobs/import", import_jobs_csv, methods=["POST"]),
    Route("/jobs/{post_id:int}", edit_job_page, methods=["GET"]),
    Route("/jobs/{post_id:int}", save_job, methods=["POST"]),
    Route("/jobs/{post_id:int}/close", close_job, methods=["POST"]),
]
