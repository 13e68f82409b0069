"""Pages from Jinja2 templates, always autoescaped: a query, a file name or an OCR line is
text on the page whatever it holds. Every page gets the language, the translator, the CSRF
token, and what the visitor may do."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlencode

from fastapi.templating import Jinja2Templates
from starlette.requests import Request
from starlette.responses import HTMLResponse

from photo_ai_web import i18n

TEMPLATES = Path(__file__).resolve().parent / "templates"
STATIC = Path(__file__).resolve().parent / "static"


def make_templates() -> Jinja2Templates:
    templates = Jinja2Templates(directory=str(TEMPLATES))
    environment = templates.env
    environment.autoescape = True  # every template, whatever its name
    environment.trim_blocks = environment.lstrip_blocks = True
    environment.filters["urlencode_query"] = lambda params: urlencode(
        {k: v for k, v in params.items() if v not in (None, "")}
    )
    return templates


def render(request: Request, template: str, status_code: int = 200, **context) -> HTMLResponse:
    web = request.app.state.web
    lang = request.state.lang
    t = i18n.translator(lang)
    page = {
        "request": request,
        "lang": lang,
        "html_lang": i18n.HTML_LANG[lang],
        "other_lang": "zh" if lang == "en" else "en",
        "t": t,
        "task_name": lambda task: t(f"task.{task}") if f"task.{task}" in i18n.MESSAGES else task,
        "date": lambda value: i18n.format_date(value, lang),
        "datetime": lambda value: i18n.format_time(value, lang),
        "csrf": request.state.csrf,
        "can_admin": web.db.can_admin,
        "immich_url": web.settings.immich_url,
        "password_required": web.guard.password_required,
        "here": request.url.path + (f"?{request.url.query}" if request.url.query else ""),
        "q": "",
    }
    return web.templates.TemplateResponse(request, template, page | context, status_code)


def error_page(
    request: Request, status_code: int, title_key: str, detail: str = ""
) -> HTMLResponse:
    return render(request, "error.html", status_code, title_key=title_key, detail=detail)
