"""Console pages: login, logout, and the landing page for each role."""

from __future__ import annotations

from typing import Any

from apiflask import APIBlueprint
from flask import redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

from callcenter.adapters.web import security
from callcenter.adapters.web.auth import end_session, requester, requires, start_session
from callcenter.adapters.web.services import services

pages = APIBlueprint("pages", __name__, enable_openapi=False)


class LoginForm(FlaskForm):
    username = StringField("User", validators=[DataRequired(), Length(max=32)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=200)])


def _safe_next(target: str | None) -> str | None:
    # Only local paths: never redirect a logged-in user to another site.
    if target and target.startswith("/") and not target.startswith("//"):
        return target
    return None


@pages.route("/login", methods=["GET", "POST"])
def login() -> Any:
    form = LoginForm()
    if request.method == "GET":
        return render_template("login.html", form=form, error="")
    if not form.validate_on_submit():
        error = "The form was incomplete or has expired; please try again."
        return render_template("login.html", form=form, error=error), 400
    if not security.hashing.acquire(timeout=security.HASH_WAIT):
        error = "The console is busy checking other logins; please try again in a moment."
        return render_template("login.html", form=form, error=error), 503
    try:
        user = services().users.authenticate(form.username.data, form.password.data)
    finally:
        security.hashing.release()
    if user is None:
        error = "Unknown user or wrong password."
        return render_template("login.html", form=form, error=error), 401
    start_session(user)
    return redirect(_safe_next(request.args.get("next")) or url_for("pages.home"))


@pages.post("/logout")
def logout() -> Any:
    end_session()
    return redirect(url_for("pages.login"))


@pages.get("/")
@requires("agent", page=True)
def home() -> Any:
    who = requester()
    if who.at_least("supervisor"):
        return redirect(url_for("wallboard.page"))
    return redirect(url_for("desktop.page"))
