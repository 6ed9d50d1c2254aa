"""QA evaluation forms over HTTP (core/quality.py): admins save and retire them, supervisors
read them to score calls. A version that scored a call is frozen: saving its form makes
the next version, and old evaluations keep theirs."""

from __future__ import annotations

from typing import Any

from apiflask import APIBlueprint, abort
from flask import Response, render_template
from pydantic import BaseModel, Field

from callcenter.adapters.web.auth import requester, requires
from callcenter.adapters.web.services import services
from callcenter.core.quality import MAX_COMMENT, Form

api = APIBlueprint("quality_forms_api", __name__, url_prefix="/api/qa", tag="Quality")
pages = APIBlueprint("quality_forms", __name__, enable_openapi=False)


class FormIn(BaseModel):
    title: str = Field(max_length=300)
    description: str = Field("", max_length=MAX_COMMENT)
    sections: list[dict[str, Any]] = Field(
        description="[{title, questions: [{key, text, kind: yes_no|scale, weight, critical, "
        "scale (0..N, scale questions), allow_na}]}]"
    )


class FormOut(BaseModel):
    id: int
    name: str
    version: int
    created_at: float
    created_by: str
    retired: bool
    used: bool = Field(description="an evaluation used this version: a change saves the next")
    definition: dict[str, Any]


class FormList(BaseModel):
    forms: list[FormOut]


def _form_out(form: Form) -> FormOut:
    return FormOut(
        id=form.id, name=form.name, version=form.version, created_at=form.created_at,
        created_by=form.created_by, retired=form.retired, used=form.used,
        definition=form.definition.as_dict(),
    )  # fmt: skip


# -- forms ------------------------------------------------------------------------------------
@api.get("/forms")
@api.output(FormList)
@api.doc(summary="The evaluation forms in use (the latest version of each)")
@requires("supervisor")
def forms() -> FormList:
    return FormList(forms=[_form_out(f) for f in services().quality.store.forms()])


@api.get("/forms/<name>")
@api.output(FormOut)
@api.doc(summary="A form in use (its latest version)", responses={404: "No such form in use"})
@requires("supervisor")
def form(name: str) -> FormOut:
    found = next((f for f in services().quality.store.forms() if f.name == name), None)
    if found is None:
        abort(404, f"no form {name!r} in use")
    return _form_out(found)


@api.get("/form-versions/<int:form_id>")
@api.output(FormOut)
@api.doc(summary="One version of a form, by its id", responses={404: "No such form"})
@requires("supervisor")
def form_version(form_id: int) -> FormOut:
    return _form_out(services().quality.form(form_id))


@api.get("/forms/<name>/versions")
@api.output(FormList)
@api.doc(summary="Every version of a form, oldest first")
@requires("supervisor")
def versions(name: str) -> FormList:
    return FormList(forms=[_form_out(f) for f in services().quality.store.versions(name)])


@api.put("/forms/<name>")
@api.input(FormIn)
@api.output(FormOut)
@api.doc(
    summary="Save a form: the latest version changed while unused, else the next version",
    responses={422: "The form's problems, each one"},
)
@requires("admin")
def save_form(name: str, json_data: FormIn) -> FormOut:
    who = requester()
    saved = services().quality.save_form(name, json_data.model_dump(), who.name)
    services().users.audit(who.name, "qa.form-saved", f"qa-form:{name}", version=saved.version)
    return _form_out(saved)


@api.delete("/forms/<name>")
@api.doc(summary="Retire a form: no new evaluations with it (old ones keep it)",
         responses={404: "No such form in use"})  # fmt: skip
@requires("admin")
def retire_form(name: str) -> Response:
    who = requester()
    services().quality.retire_form(name)
    services().users.audit(who.name, "qa.form-retired", f"qa-form:{name}")
    return Response(status=204)


@pages.get("/qa/forms")
@requires("admin", page=True)
def page() -> Any:
    return render_template("qa_forms.html")
