"""Content templates over HTTP: declarations checked against the text when it is saved,
values checked when it renders, optimistic locking, usage counted by renders only, and
public templates shared read-only with every account."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
import psycopg
import pytest

from markettina.kernel.db import bootstrap
from markettina.kernel.db.urls import DatabaseURLs
from tests.support.checks import fields, problem, sql
from tests.support.identity import Member, new_account, new_key, new_member

GREETING = (
    "Hi {{ first_name }}! {{ offer }}{% if vip %} (VIP){% endif %} "
    "until {{ ends_on.strftime('%d %B') }}"
)
DECLARED = [
    {"name": "first_name", "type": "string"},
    {"name": "offer", "type": "string", "required": False, "default": "10% off"},
    {"name": "vip", "type": "boolean", "required": False},
    {"name": "ends_on", "type": "date"},
]


def _body(**overrides: Any) -> dict[str, Any]:
    return {
        "name": "Greeting",
        "content_type": "social_post",
        "template_content": GREETING,
        "variables": DECLARED,
    } | overrides


async def _create(client: httpx.AsyncClient, member: Member, **overrides: Any) -> dict[str, Any]:
    response = await client.post("/v1/templates", json=_body(**overrides), headers=member.headers)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    assert response.headers["ETag"] == f'"{body["version"]}"'
    return body


@pytest.fixture
def owner(db: DatabaseURLs) -> Member:
    return new_member(db, new_account(db), "owner")


class TestSaving:
    async def test_a_template_is_saved_with_its_declarations(
        self, client: httpx.AsyncClient, owner: Member
    ) -> None:
        made = await _create(client, owner)
        assert made["variables"][1] == {
            "name": "offer",
            "type": "string",
            "required": False,
            "default": "10% off",
            "description": None,
        }
        assert (made["usage_count"], made["is_active"], made["is_public"]) == (0, True, False)
        read = await client.get(f"/v1/templates/{made['id']}", headers=owner.headers)
        assert read.json() == made

    async def test_variables_read_but_not_declared_are_named(
        self, client: httpx.AsyncClient, owner: Member
    ) -> None:
        response = await client.post(
            "/v1/templates",
            headers=owner.headers,
            json=_body(
                template_content="{{ first_name }} {{ coupon }} {{ city }}",
                variables=[{"name": "first_name"}],
            ),
        )
        body = problem(response, 422, "template_variables_invalid")
        assert body["undeclared_variables"] == ["city", "coupon"]
        assert fields(body) == ["body.template_content"]
        assert "city, coupon" in body["errors"][0]["message"]

    @pytest.mark.parametrize(
        ("declarations", "field"),
        [
            ([{"name": "first_name"}, {"name": "first_name"}], "body.variables.1.name"),
            (
                [{"name": "first_name", "type": "integer", "required": False, "default": "x"}],
                "body.variables.0.default",
            ),
            (
                [{"name": "first_name", "required": True, "default": "Ada"}],
                "body.variables.0.default",
            ),
        ],
    )
    async def test_bad_declarations_are_named(
        self, client: httpx.AsyncClient, owner: Member, declarations: list[Any], field: str
    ) -> None:
        response = await client.post(
            "/v1/templates",
            headers=owner.headers,
            json=_body(template_content="{{ first_name }}", variables=declarations),
        )
        assert field in fields(problem(response, 422))

    async def test_an_unknown_type_or_a_bad_name_is_refused_by_the_schema(
        self, client: httpx.AsyncClient, owner: Member
    ) -> None:
        for declaration in ({"name": "x", "type": "object"}, {"name": "1x"}, {"name": "_x"}):
            response = await client.post(
                "/v1/templates",
                headers=owner.headers,
                json=_body(template_content="hi", variables=[declaration]),
            )
            problem(response, 422)

    async def test_a_syntax_error_names_its_line(
        self, client: httpx.AsyncClient, owner: Member
    ) -> None:
        response = await client.post(
            "/v1/templates",
            headers=owner.headers,
            json=_body(
                template_content="ok\n{% if first_name %}", variables=[{"name": "first_name"}]
            ),
        )
        body = problem(response, 422, "template_syntax_error")
        assert "line 2" in body["detail"] and fields(body) == ["body.template_content"]


# Each classic sandbox escape is refused with a clear code, at save when the text shows it,
# at render otherwise; never a 500, never a leak of Python internals.
ESCAPES_AT_SAVE = [
    ("{{ ''.__class__.__mro__ }}", "template_unsafe"),
    ("{{ cycler.__init__.__globals__ }}", "template_unsafe"),
    ("{{ self._TemplateReference__context }}", "template_unsafe"),
    ("{{ self }}", "template_unsafe"),
    ("{{ lipsum.__globals__ }}", "template_unsafe"),
    ("{{ x['__class__'] }}", "template_unsafe"),
    ("{% include 'secrets.txt' %}", "template_forbidden_tag"),
    ("{% import 'macros.html' as m %}", "template_forbidden_tag"),
    ("{% extends 'base.html' %}", "template_forbidden_tag"),
    ("{% macro m() %}{{ m() }}{% endmacro %}{{ m() }}", "template_forbidden_tag"),
    ("{% for a in x recursive %}{{ loop(a) }}{% endfor %}", "template_forbidden_tag"),
]
UNDECLARED_AT_SAVE = [
    "{{ request }}",
    "{{ range(10**9) }}",
    "{{ lipsum() }}",
    "{{ cycler(1) }}",
    "{{ config }}",
    "{{ loop }}",
]
ESCAPES_AT_RENDER = [
    ("{{ '{0.__class__}'.format(x) }}", "template_unsafe"),
    ("{{ '{0.__class__.__mro__}'.format_map(x) }}", "template_render_error"),
    ("{{ x|attr('__class__') }}", "template_unsafe"),
    ("{{ x|attr('__init__') }}", "template_unsafe"),
    ("{{ 'a' * 10**9 }}", "template_too_expensive"),
    ("{{ x * 1000000 }}", "template_too_expensive"),
    ("{{ 9 ** 99999999 }}", "template_too_expensive"),
    ("{{ x|center(100000000) }}", "template_too_expensive"),
    ("{{ '{:>999999999}'.format(x) }}", "template_too_expensive"),
    ("{{ '%999999999s'|format(x) }}", "template_too_expensive"),
    ("{{ '%999999999s' % x }}", "template_too_expensive"),
    (
        "{% for a in x %}{% for b in x %}{% for c in x %}{% endfor %}{% endfor %}{% endfor %}",
        "template_too_expensive",
    ),
    ("{% for a in x %}{{ x * 1000 }}{% endfor %}", "template_output_too_large"),
    ("{{ ('a\\n' * 5000)|indent(999, true)|length }}", "template_output_too_large"),
    ("{{ x|truncate(1001) }}", "template_too_expensive"),
    ("{{ x.nothing }}", "template_undefined"),
    ("{{ x + 1 }}", "template_render_error"),
]


class TestSandbox:
    @pytest.mark.parametrize(("source", "code"), ESCAPES_AT_SAVE)
    async def test_escapes_visible_in_the_text_are_refused_when_saved(
        self, client: httpx.AsyncClient, owner: Member, source: str, code: str
    ) -> None:
        response = await client.post(
            "/v1/templates",
            headers=owner.headers,
            json=_body(template_content=source, variables=[{"name": "x"}]),
        )
        body = problem(response, 422, code)
        assert fields(body) == ["body.template_content"]

    @pytest.mark.parametrize("source", UNDECLARED_AT_SAVE)
    async def test_globals_do_not_exist(
        self, client: httpx.AsyncClient, owner: Member, source: str
    ) -> None:
        response = await client.post(
            "/v1/templates",
            headers=owner.headers,
            json=_body(template_content=source, variables=[]),
        )
        assert problem(response, 422)["code"] in ("template_variables_invalid", "template_unsafe")

    @pytest.mark.parametrize(("source", "code"), ESCAPES_AT_RENDER)
    async def test_escapes_at_render_are_refused_with_a_code(
        self, client: httpx.AsyncClient, owner: Member, source: str, code: str
    ) -> None:
        made = await _create(client, owner, template_content=source, variables=[{"name": "x"}])
        for route in ("preview", "render"):
            response = await client.post(
                f"/v1/templates/{made['id']}/{route}",
                headers=owner.headers,
                json={"variables": {"x": "x" * 50}},
            )
            body = problem(response, 422, code)
            assert "<class" not in response.text and "__globals__" not in body["detail"]
        (count,) = sql_one(client, made["id"])
        assert count == 0  # a refused render counts nothing

    async def test_html_content_escapes_the_variables_and_text_does_not(
        self, client: httpx.AsyncClient, owner: Member
    ) -> None:
        source = "<p>{{ x }}</p>"
        for content_type, expected in (
            ("email_html", "<p>&lt;b&gt;&amp;</p>"),
            ("email", "<p><b>&</p>"),
        ):
            made = await _create(
                client,
                owner,
                template_content=source,
                variables=[{"name": "x"}],
                content_type=content_type,
            )
            response = await client.post(
                f"/v1/templates/{made['id']}/preview",
                headers=owner.headers,
                json={"variables": {"x": "<b>&"}},
            )
            assert response.json()["text"] == expected


_DB: dict[int, DatabaseURLs] = {}


def sql_one(client: httpx.AsyncClient, template_id: str) -> tuple[Any, ...]:
    (row,) = sql(
        _DB[id(client)], "SELECT usage_count FROM content_templates WHERE id = %s", template_id
    )
    return row


@pytest.fixture(autouse=True)
def _remember_db(client: httpx.AsyncClient, db: DatabaseURLs) -> None:
    _DB[id(client)] = db


class TestRendering:
    async def test_render_fills_defaults_converts_dates_and_counts_a_use(
        self, client: httpx.AsyncClient, owner: Member
    ) -> None:
        made = await _create(client, owner)
        values = {"first_name": "Ada", "ends_on": "2026-12-31"}
        preview = await client.post(
            f"/v1/templates/{made['id']}/preview", headers=owner.headers, json={"variables": values}
        )
        assert preview.status_code == 200, preview.text
        assert preview.json() == {
            "template_id": made["id"],
            "content_type": "social_post",
            "text": "Hi Ada! 10% off until 31 December",
            "counted": False,
        }
        assert sql_one(client, made["id"]) == (0,)
        rendered = await client.post(
            f"/v1/templates/{made['id']}/render",
            headers=owner.headers,
            json={"variables": values | {"vip": True}},
        )
        assert rendered.json()["text"] == "Hi Ada! 10% off (VIP) until 31 December"
        assert rendered.json()["counted"] is True
        after = (await client.get(f"/v1/templates/{made['id']}", headers=owner.headers)).json()
        assert (after["usage_count"], after["version"]) == (1, made["version"])  # no edit

    async def test_each_bad_value_is_named(self, client: httpx.AsyncClient, owner: Member) -> None:
        made = await _create(client, owner)
        response = await client.post(
            f"/v1/templates/{made['id']}/render",
            headers=owner.headers,
            json={"variables": {"vip": "yes", "ends_on": "31/12/2026", "extra": 1}},
        )
        body = problem(response, 422, "template_variables_invalid")
        assert sorted(fields(body)) == [
            "body.variables.ends_on",
            "body.variables.extra",
            "body.variables.first_name",
            "body.variables.vip",
        ]
        codes = {e["field"]: e["code"] for e in body["errors"]}
        assert codes["body.variables.first_name"] == "missing"
        assert codes["body.variables.vip"] == "wrong_type"
        assert codes["body.variables.extra"] == "undeclared"
        assert sql_one(client, made["id"]) == (0,)

    @pytest.mark.parametrize(
        ("kind", "good", "bad"),
        [
            ("integer", 3, 3.5),
            ("integer", 4, True),
            ("number", 2.5, "2.5"),
            ("boolean", False, 0),
            ("list", ["a", 1], [{"a": 1}]),
            ("date", "2026-02-28", "2026-02-30"),
            ("string", "s", 1),
        ],
    )
    async def test_types(
        self, client: httpx.AsyncClient, owner: Member, kind: str, good: Any, bad: Any
    ) -> None:
        made = await _create(
            client, owner, template_content="[{{ v }}]", variables=[{"name": "v", "type": kind}]
        )
        url = f"/v1/templates/{made['id']}/preview"
        ok = await client.post(url, headers=owner.headers, json={"variables": {"v": good}})
        assert ok.status_code == 200, ok.text
        refused = await client.post(url, headers=owner.headers, json={"variables": {"v": bad}})
        assert fields(problem(refused, 422)) == ["body.variables.v"]

    async def test_an_inactive_template_previews_but_does_not_render(
        self, client: httpx.AsyncClient, owner: Member
    ) -> None:
        made = await _create(client, owner, is_active=False, template_content="hi", variables=[])
        preview = await client.post(
            f"/v1/templates/{made['id']}/preview", headers=owner.headers, json={}
        )
        assert preview.json()["text"] == "hi"
        render = await client.post(
            f"/v1/templates/{made['id']}/render", headers=owner.headers, json={}
        )
        problem(render, 409, "template_inactive")

    async def test_concurrent_renders_each_count(
        self, client: httpx.AsyncClient, owner: Member
    ) -> None:
        made = await _create(client, owner, template_content="hi", variables=[])
        url = f"/v1/templates/{made['id']}/render"
        answers = await asyncio.gather(
            *(client.post(url, headers=owner.headers, json={}) for _ in range(8))
        )
        assert [a.status_code for a in answers] == [200] * 8
        assert sql_one(client, made["id"]) == (8,)


class TestChanges:
    async def test_optimistic_locking_by_if_match_or_body(
        self, client: httpx.AsyncClient, owner: Member
    ) -> None:
        made = await _create(client, owner)
        url = f"/v1/templates/{made['id']}"
        first = await client.patch(
            url, headers={**owner.headers, "If-Match": '"1"'}, json={"name": "Renamed"}
        )
        assert first.status_code == 200, first.text
        assert (first.json()["name"], first.json()["version"]) == ("Renamed", 2)
        assert first.headers["ETag"] == '"2"'
        stale = await client.patch(url, headers=owner.headers, json={"name": "Late", "version": 1})
        assert problem(stale, 409, "version_conflict")["current_version"] == 2
        stale_header = await client.patch(
            url, headers={**owner.headers, "If-Match": "1"}, json={"name": "Late"}
        )
        problem(stale_header, 409, "version_conflict")
        missing = await client.patch(url, headers=owner.headers, json={"name": "No version"})
        assert fields(problem(missing, 422)) == ["body.version"]
        assert (await client.get(url, headers=owner.headers)).json()["name"] == "Renamed"

    async def test_a_change_of_text_is_checked_against_the_kept_declarations(
        self, client: httpx.AsyncClient, owner: Member
    ) -> None:
        made = await _create(client, owner)
        response = await client.patch(
            f"/v1/templates/{made['id']}",
            headers=owner.headers,
            json={"template_content": "{{ first_name }} {{ surname }}", "version": 1},
        )
        assert problem(response, 422, "template_variables_invalid")["undeclared_variables"] == [
            "surname"
        ]
        dropped = await client.patch(
            f"/v1/templates/{made['id']}",
            headers=owner.headers,
            json={"variables": [{"name": "first_name"}], "version": 1},
        )
        assert problem(dropped, 422)["undeclared_variables"] == ["ends_on", "offer", "vip"]

    async def test_delete_is_soft_and_hides_the_template(
        self, client: httpx.AsyncClient, owner: Member, db: DatabaseURLs
    ) -> None:
        made = await _create(client, owner)
        url = f"/v1/templates/{made['id']}"
        stale = await client.delete(url, headers={**owner.headers, "If-Match": '"7"'})
        problem(stale, 409, "version_conflict")
        assert (await client.delete(url, headers=owner.headers)).status_code == 204
        problem(await client.get(url, headers=owner.headers), 404, "template_not_found")
        (deleted_by,) = sql(
            db, "SELECT deleted_by FROM content_templates WHERE id = %s", made["id"]
        )[0]
        assert deleted_by == owner.user_id

    async def test_the_list_is_the_account_s_own_newest_first(
        self, client: httpx.AsyncClient, owner: Member, db: DatabaseURLs
    ) -> None:
        first = await _create(client, owner, name="first")
        second = await _create(client, owner, name="second")
        other = new_member(db, new_account(db))
        await _create(client, other, name="someone else's")
        page = (await client.get("/v1/templates?limit=1", headers=owner.headers)).json()
        assert page["items"] == [second]  # the page PostgreSQL renders, as the model does
        rest = await client.get(
            f"/v1/templates?cursor={page['next_cursor']}", headers=owner.headers
        )
        assert [t["id"] for t in rest.json()["items"]] == [first["id"]]


class TestPublicTemplates:
    async def test_only_account_update_may_publish(
        self, client: httpx.AsyncClient, owner: Member, db: DatabaseURLs
    ) -> None:
        editor = new_member(db, owner.account_id, "editor")
        refused = await client.post(
            "/v1/templates", headers=editor.headers, json=_body(is_public=True)
        )
        problem(refused, 403, "template_publish_forbidden")
        made = await _create(client, editor)
        publish = await client.patch(
            f"/v1/templates/{made['id']}",
            headers=editor.headers,
            json={"is_public": True, "version": 1},
        )
        problem(publish, 403, "template_publish_forbidden")
        admin = new_member(db, owner.account_id, "admin")
        done = await client.patch(
            f"/v1/templates/{made['id']}",
            headers=admin.headers,
            json={"is_public": True, "version": 1},
        )
        assert done.json()["is_public"] is True
        key = new_key(db, owner.account_id, ["content:write"])
        problem(
            await client.post("/v1/templates", headers=key.headers, json=_body(is_public=True)),
            403,
            "template_publish_forbidden",
        )

    async def test_another_account_reads_and_renders_a_public_template_but_cannot_change_it(
        self, client: httpx.AsyncClient, owner: Member, db: DatabaseURLs
    ) -> None:
        public = await _create(client, owner, name=f"pub-{uuid.uuid4().hex[:6]}", is_public=True)
        private = await _create(client, owner, name="private")
        b = new_member(db, new_account(db), "owner")
        read = await client.get(f"/v1/templates/{public['id']}", headers=b.headers)
        assert read.status_code == 200 and read.json()["name"] == public["name"]
        listed = (await client.get("/v1/templates/public?limit=200", headers=b.headers)).json()
        assert public["id"] in [t["id"] for t in listed["items"]]
        assert private["id"] not in [t["id"] for t in listed["items"]]
        assert public["id"] not in [
            t["id"] for t in (await client.get("/v1/templates", headers=b.headers)).json()["items"]
        ]
        rendered = await client.post(
            f"/v1/templates/{public['id']}/render",
            headers=b.headers,
            json={"variables": {"first_name": "Bo", "ends_on": "2026-01-02"}},
        )
        assert rendered.json()["counted"] is True  # counted on A's row, which B cannot write
        change = await client.patch(
            f"/v1/templates/{public['id']}", headers=b.headers, json={"name": "taken", "version": 1}
        )
        problem(change, 403, "template_read_only")
        problem(
            await client.delete(f"/v1/templates/{public['id']}", headers=b.headers),
            403,
            "template_read_only",
        )
        problem(
            await client.get(f"/v1/templates/{private['id']}", headers=b.headers),
            404,
            "template_not_found",
        )
        (row,) = sql(
            db,
            "SELECT name, deleted_at, usage_count FROM content_templates WHERE id = %s",
            public["id"],
        )
        assert row == (public["name"], None, 1)


class TestRowLevelSecurity:
    """The policies themselves, below the API: B's session sees A's public row, never its
    private one, and no write of B reaches either."""

    def test_public_rows_are_readable_and_never_writable_by_another_tenant(
        self, db: DatabaseURLs
    ) -> None:
        a, b = new_account(db), new_account(db)
        ids = {}
        for name, public in (("public", True), ("private", False)):
            (ids[name],) = sql(
                db,
                "INSERT INTO content_templates (account_id, name, content_type, "
                "template_content, is_public) VALUES (%s, %s, 'post', 'x', %s) "
                "RETURNING id",
                a,
                name,
                public,
            )[0]
        with bootstrap.connect(db.app) as conn:
            conn.execute("SELECT set_config('app.current_account_id', %s, false)", (str(b),))
            rows = conn.execute("SELECT name FROM content_templates WHERE account_id = %s", (a,))
            seen = {row[0] for row in rows}
            assert seen == {"public"}
            for statement in (
                "UPDATE content_templates SET name = 'taken' WHERE account_id = %s",
                "DELETE FROM content_templates WHERE account_id = %s",
            ):
                assert conn.execute(statement, (a,)).rowcount == 0
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(
                    "INSERT INTO content_templates (account_id, name, content_type, "
                    "template_content, is_public) VALUES (%s, 'forged', 'post', 'x', true)",
                    (a,),
                )
        names = sql(db, "SELECT name FROM content_templates WHERE account_id = %s ORDER BY name", a)
        assert names == [("private",), ("public",)]

    def test_the_use_counter_reaches_public_rows_only(self, db: DatabaseURLs) -> None:
        a, b = new_account(db), new_account(db)
        ids = {}
        for name, public, active in (("public", True, True), ("private", False, True),
                                     ("retired", True, False)):  # fmt: skip
            ((ids[name],),) = sql(
                db,
                "INSERT INTO content_templates (account_id, name, content_type, "
                "template_content, is_public, is_active) VALUES (%s, %s, 'post', 'x', %s, %s) "
                "RETURNING id",
                a, name, public, active,
            )  # fmt: skip
        with bootstrap.connect(db.app) as conn:
            conn.execute("SELECT set_config('app.current_account_id', %s, false)", (str(b),))
            count = "SELECT content_template_count_use(%s)"
            assert conn.execute(count, (ids["public"],)).fetchone() == (1,)
            assert conn.execute(count, (ids["private"],)).fetchone() == (None,)
            assert conn.execute(count, (ids["retired"],)).fetchone() == (None,)
            conn.execute("SELECT set_config('app.current_account_id', %s, false)", (str(a),))
            assert conn.execute(count, (ids["private"],)).fetchone() == (1,)
        counts = sql(db, "SELECT name, usage_count, version FROM content_templates "
                         "WHERE account_id = %s ORDER BY name", a)  # fmt: skip
        assert counts == [("private", 1, 1), ("public", 1, 1), ("retired", 0, 1)]
