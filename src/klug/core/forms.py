"""HTML forms validated by Pydantic models, with errors in the visitor's language."""

from __future__ import annotations

from typing import Annotated, Any, TypeVar

from fastapi import Depends
from pydantic import BaseModel, ValidationError
from starlette.datastructures import FormData
from starlette.requests import Request

from klug.core.i18n import gettext

M = TypeVar("M", bound=BaseModel)


def _message(error: dict[str, Any]) -> str:
    kind = error.get("type", "")
    ctx = error.get("ctx") or {}
    if kind == "missing" or (kind == "string_too_short" and ctx.get("min_length") == 1):
        return gettext("This field is required.")
    if kind == "string_too_short":
        return gettext("Please enter at least %(n)s characters.") % {"n": ctx.get("min_length")}
    if kind == "string_too_long":
        return gettext("Please enter at most %(n)s characters.") % {"n": ctx.get("max_length")}
    if "email" in str(error.get("msg", "")).lower():
        return gettext("Please enter a valid e-mail address.")
    if kind in {"literal_error", "enum"}:
        return gettext("Please choose one of the offered options.")
    if kind.startswith("datetime") or kind.startswith("timezone"):
        return gettext("Please enter a valid date and time.")
    return gettext("Please check this entry.")


def form_values(form: FormData) -> dict[str, str]:
    """Text fields only, empty ones dropped (so that defaults apply); passwords unstripped."""
    return {
        key: value if "password" in key else value.strip()
        for key, value in form.items()
        if isinstance(value, str) and value.strip() != "" and key != "csrf_token"
    }


def validate(model: type[M], values: dict[str, Any]) -> tuple[M | None, dict[str, str]]:
    """The model, or the errors by field name (first error per field)."""
    try:
        return model.model_validate(values), {}
    except ValidationError as exc:
        errors: dict[str, str] = {}
        for error in exc.errors():
            loc = error.get("loc") or ("form",)
            name = str(loc[0]) if loc else "form"
            errors.setdefault(name, _message(dict(error)))
        return None, errors


async def submitted_form(request: Request) -> dict[str, str]:
    """The text fields of a submitted form (a dependency, so that sync routes can use it)."""
    return form_values(await request.form())


FormValues = Annotated[dict[str, str], Depends(submitted_form)]


async def raw_form(request: Request) -> FormData:
    """The submitted form with repeated fields (checkbox groups)."""
    return await request.form()


RawForm = Annotated[FormData, Depends(raw_form)]
