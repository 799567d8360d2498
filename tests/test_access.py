"""Permissions, region scoping, navigation, and the pages that administer them."""

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from core import permissions as p
from core.account_ops import assign_role, create_user
from core.accounts import Role, User
from core.audit import AuditEntry
from core.permissions import has_permission, scope_to_regions
from core.regions import Region
from tests.helpers import csrf_token_from, login


def _region(session, code):
    return session.scalar(select(Region).where(Region.code == code))


def test_a_page_is_denied_without_its_permission(client, demo):
    login(client, "clerk")
    response = client.get("/admin/users")
    assert response.status_code == 403
    assert "اجازه دیدن این صفحه را ندارید." in response.get_data(as_text=True)


def test_a_page_is_open_with_its_permission(client, demo):
    login(client, "admin")
    response = client.get("/admin/users")
    assert response.status_code == 200
    assert "زهرا احمدی" in response.get_data(as_text=True)


def test_signed_out_users_are_sent_to_the_login_page(client, demo):
    response = client.get("/admin/users")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")


def test_navigation_shows_only_what_the_user_may_use(client, demo):
    login(client, "clerk")
    clerk_page = client.get("/").get_data(as_text=True)
    assert 'href="/admin/users"' not in clerk_page and 'href="/admin/audit"' not in clerk_page
    client.post("/logout", data={"csrf_token": csrf_token_from(clerk_page)})
    login(client, "admin")
    admin_page = client.get("/").get_data(as_text=True)
    assert 'href="/admin/users"' in admin_page and 'href="/admin/audit"' in admin_page


def test_every_endpoint_checks_a_permission(app):
    from web.access import PUBLIC_ENDPOINTS

    unguarded = [
        rule.endpoint for rule in app.url_map.iter_rules()
        if rule.endpoint not in PUBLIC_ENDPOINTS
        and not hasattr(app.view_functions[rule.endpoint], "required_permission")
    ]
    assert unguarded == []


def test_region_scoping_limits_a_query_to_the_users_regions(session, demo):
    def visible(username, permission):
        stmt = scope_to_regions(select(Region.code), Region.id, session, demo[username], permission)
        return set(session.scalars(stmt))

    # The clerk holds her role in امور یک شیراز: she sees it and its office, nothing else.
    assert visible("clerk", p.SUBSCRIBERS_VIEW) == {"shiraz-1", "shiraz-1-maali"}
    # The engineer holds his at the company: everything.
    assert visible("engineer", p.SUBSCRIBERS_VIEW) == set(session.scalars(select(Region.code)))
    # The analyst has no such permission anywhere: nothing.
    assert visible("analyst", p.SUBSCRIBERS_VIEW) == set()


def test_permission_in_a_region_holds_below_it_and_not_beside_it(session, demo):
    clerk = demo["clerk"]
    assert has_permission(session, clerk, p.SUBSCRIBERS_EDIT, _region(session, "shiraz-1-maali"))
    assert not has_permission(session, clerk, p.SUBSCRIBERS_EDIT, _region(session, "shiraz-2"))
    assert not has_permission(session, clerk, p.SUBSCRIBERS_EDIT, _region(session, "demo"))
    assert not has_permission(session, clerk, p.ADMIN_USERS)
    with pytest.raises(KeyError):
        has_permission(session, clerk, "no.such.permission")


def test_a_regional_admin_manages_only_users_of_their_region(client, session, demo):
    admin2 = create_user(session, None, username="admin2", full_name="مدیر امور دو", password="madam1403")
    role = session.scalar(select(Role).where(Role.code == "admin"))
    assign_role(session, None, admin2, role, _region(session, "shiraz-2"))
    session.commit()
    login(client, "admin2")
    listing = client.get("/admin/users").get_data(as_text=True)
    assert "مدیر امور دو" in listing and "زهرا احمدی" not in listing
    assert client.get(f"/admin/users/{demo['clerk'].id}").status_code == 404


def test_creating_a_user_with_a_bad_national_id_saves_nothing(client, session, demo):
    login(client, "admin")
    page = client.get("/admin/users/new").get_data(as_text=True)
    response = client.post("/admin/users/new", data={
        "csrf_token": csrf_token_from(page), "username": "newclerk", "full_name": "نيما كاظمي",
        "national_id": "0499370898", "mobile": "09121234567", "password": "long-enough-1", "active": "y"})
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "این کد ملی معتبر نیست." in body
    assert 'value="نيما كاظمي"' in body or 'value="نیما کاظمی"' in body  # what was typed is kept
    assert session.scalar(select(User).where(User.username == "newclerk")) is None


def test_creating_a_user_normalises_and_audits(client, session, demo):
    login(client, "admin")
    page = client.get("/admin/users/new").get_data(as_text=True)
    response = client.post("/admin/users/new", data={
        "csrf_token": csrf_token_from(page), "username": "NewClerk", "full_name": "نيما  كاظمي",
        "national_id": "۰۴۹۹۳۷۰۸۹۹", "mobile": "+989121234567", "password": "long-enough-1", "active": "y"})
    assert response.status_code == 302
    user = session.scalar(select(User).where(User.username == "newclerk"))
    assert (user.full_name, user.national_id, user.mobile) == ("نیما کاظمی", "0499370899", "09121234567")
    entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "user.created",
                                                    AuditEntry.object_id == str(user.id)))
    assert entry.actor_name == "admin" and entry.object_id == str(user.id) and entry.address == "127.0.0.1"


def test_the_audit_log_refuses_updates_and_deletes(session, demo):
    session.flush()
    for statement in ("UPDATE audit_log SET action = 'x'", "DELETE FROM audit_log"):
        with pytest.raises(DBAPIError, match="append-only"):
            with session.begin_nested():
                session.execute(text(statement))


def test_the_audit_page_filters_by_jalali_date_and_user(client, session, demo):
    login(client, "admin")
    response = client.get("/admin/audit?actor=admin&since=۱۴۰۰/۰۱/۰۱")
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and "ورود به سامانه" in body
    bad = client.get("/admin/audit?since=1403/13/40").get_data(as_text=True)
    assert "تاریخ را به شمسی وارد کنید" in bad


def test_unknown_pages_get_a_persian_404(client):
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert "این صفحه وجود ندارد." in response.get_data(as_text=True)


def test_an_admin_changes_a_roles_permissions_and_it_takes_effect(client, session, demo):
    role = session.scalar(select(Role).where(Role.code == "inspector"))
    login(client, "admin")
    page = client.get(f"/admin/roles/{role.id}").get_data(as_text=True)
    response = client.post(f"/admin/roles/{role.id}", data={"csrf_token": csrf_token_from(page),
                                                            "permissions": ["cartable.use", "reports.view"]})
    assert response.status_code == 302
    session.refresh(role)
    assert role.permissions == {"cartable.use", "reports.view"}  # subscribers.view gone, reports.view added
    from core.permissions import forget_grants

    forget_grants(demo["inspector"])
    assert has_permission(session, demo["inspector"], p.REPORTS_VIEW)
    assert not has_permission(session, demo["inspector"], p.SUBSCRIBERS_VIEW)
