"""The request's user loader (web.auth.load_session_user): her row and her grants in one read, and the same
refusals as before (gone, deactivated, password changed since the session began)."""

from datetime import timedelta

from core import permissions as p
from core.db import utcnow
from core.permissions import forget_grants, has_permission
from web.auth import load_session_user


def _fresh_grants(session, user) -> list:
    forget_grants(user)
    return sorted(p._grants(session, user))


def test_the_loaded_user_holds_the_grants_her_roles_give(session, demo):
    for username in ("clerk", "inspector", "admin"):
        user = demo[username]
        session_id = user.get_id()
        session.expire(user)  # as after a commit: the loader reads her again
        loaded = load_session_user(session, session_id)
        assert loaded is user and loaded.username == username
        read_with_her = sorted(loaded._madam_grants)
        assert read_with_her == _fresh_grants(session, user)
    assert has_permission(session, load_session_user(session, demo["clerk"].get_id()), p.CARTABLE_USE)
    assert not has_permission(session, load_session_user(session, demo["clerk"].get_id()), p.ADMIN_USERS)


def test_a_deactivated_user_or_a_changed_password_ends_the_session(session, demo):
    clerk = demo["clerk"]
    session_id = clerk.get_id()
    clerk.password_changed_at = utcnow() - timedelta(minutes=1)
    session.flush()
    assert load_session_user(session, session_id) is None  # the stamp in her cookie is the old one
    assert load_session_user(session, clerk.get_id()) is clerk
    clerk.active = False
    session.flush()
    assert load_session_user(session, clerk.get_id()) is None
    assert load_session_user(session, "999999:0") is None and load_session_user(session, "x:0") is None


def test_changes_this_session_has_not_flushed_are_kept(session, demo):
    clerk = demo["clerk"]
    clerk.full_name = "نام تازه"
    assert load_session_user(session, clerk.get_id()) is clerk
    assert clerk.full_name == "نام تازه"
