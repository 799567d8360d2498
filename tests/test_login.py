"""Signing in and out: success, wrong password, lockout, CSRF, session expiry."""

from datetime import timedelta

from sqlalchemy import select

from core.accounts import User
from core.audit import AuditEntry
from core.db import utcnow
from tests.helpers import csrf_token_from, login


def _actions(session, username):
    return [e.action for e in session.scalars(
        select(AuditEntry).where(AuditEntry.actor_name == username).order_by(AuditEntry.id))]


def test_login_succeeds_and_lands_on_the_dashboard(client, demo, session):
    response = login(client, "clerk")
    assert response.status_code == 302 and response.headers["Location"] == "/"
    page = client.get("/").get_data(as_text=True)
    assert "زهرا احمدی" in page
    assert "کارشناس پیشخوان" in page  # the role she holds
    assert "login.succeeded" in _actions(session, "clerk")


def test_login_accepts_persian_digits_and_capitals_in_the_username(client, demo):
    assert login(client, "CLERK").status_code == 302


def test_wrong_password_is_refused_with_a_persian_message(client, demo, session):
    response = login(client, "clerk", "wrong-password")
    assert response.status_code == 401
    assert "نام کاربری یا گذرواژه نادرست است." in response.get_data(as_text=True)
    assert client.get("/").status_code == 302  # still signed out
    assert session.scalar(select(User.failed_logins).where(User.username == "clerk")) == 1


def test_unknown_user_gets_the_same_message(client, demo):
    response = login(client, "nobody", "whatever-it-is")
    assert response.status_code == 401
    assert "نام کاربری یا گذرواژه نادرست است." in response.get_data(as_text=True)


def test_five_wrong_passwords_lock_the_account_even_for_the_right_one(client, demo, session, app):
    for _ in range(app.config["MADAM_LOGIN_MAX_FAILURES"] - 1):
        assert login(client, "inspector", "nope-nope").status_code == 401
    locked = login(client, "inspector", "nope-nope")
    assert locked.status_code == 403
    assert "قفل شد" in locked.get_data(as_text=True)
    right = login(client, "inspector", "madam1403")
    assert right.status_code == 403  # the right password does not open a locked account
    user = session.scalar(select(User).where(User.username == "inspector"))
    assert user.locked_until > utcnow() + timedelta(minutes=14)
    assert "login.locked" in _actions(session, "inspector")
    assert "login.refused_locked" in _actions(session, "inspector")


def test_the_lock_expires(client, demo, session):
    user = session.scalar(select(User).where(User.username == "inspector"))
    user.locked_until = utcnow() - timedelta(seconds=1)
    session.commit()
    assert login(client, "inspector").status_code == 302


def test_a_deactivated_user_cannot_sign_in(client, demo, session):
    demo["analyst"].active = False
    session.commit()
    response = login(client, "analyst")
    assert response.status_code == 403
    assert "غیرفعال" in response.get_data(as_text=True)


def test_a_form_post_without_csrf_token_is_refused(client, demo, session):
    response = client.post("/login", data={"username": "clerk", "password": "madam1403"})
    assert response.status_code == 400
    assert "این فرم منقضی شده" in response.get_data(as_text=True)
    assert client.get("/").status_code == 302  # not signed in
    assert "login.succeeded" not in _actions(session, "clerk")


def test_signed_in_posts_without_csrf_are_refused_too(client, demo):
    login(client, "admin")
    response = client.post("/admin/users/new", data={"username": "eve", "full_name": "Eve", "password": "x" * 10})
    assert response.status_code == 400
    assert client.post("/logout").status_code == 400


def test_logout_ends_the_session(client, demo, session):
    login(client, "clerk")
    page = client.get("/").get_data(as_text=True)
    response = client.post("/logout", data={"csrf_token": csrf_token_from(page)})
    assert response.status_code == 302
    assert client.get("/").status_code == 302
    assert "logout" in _actions(session, "clerk")


def test_an_idle_session_expires(client, demo, app):
    login(client, "clerk")
    with client.session_transaction() as flask_session:
        flask_session["seen"] -= app.config["MADAM_SESSION_IDLE"].total_seconds() + 1
    response = client.get("/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert client.get("/").status_code == 302


def test_changing_a_password_ends_the_users_other_sessions(client, demo, session, app):
    login(client, "clerk")
    assert client.get("/").status_code == 200
    from core.account_ops import set_password

    set_password(session, demo["admin"], demo["clerk"], "a-new-password")
    session.commit()
    assert client.get("/").status_code == 302


def test_next_only_goes_to_our_own_pages(client, demo):
    page = client.get("/login?next=https://evil.example/")
    token = csrf_token_from(page.get_data(as_text=True))
    response = client.post("/login?next=https://evil.example/",
                           data={"username": "clerk", "password": "madam1403", "csrf_token": token})
    assert response.headers["Location"] == "/"
