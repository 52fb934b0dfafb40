"""Importing leads from CSV: the header mapped, e-mails normalised, rows merged by e-mail
in the file and with existing leads by the documented rule, refused rows reported with
line and reason, one transaction, run as a pollable job."""

from __future__ import annotations

import httpx
import psycopg
import pytest

from markettina.content.lead_tasks import purge_abandoned_lead_imports
from markettina.kernel import jobs
from markettina.kernel.db import bootstrap
from markettina.kernel.db.urls import DatabaseURLs, as_libpq_url
from markettina.worker import run_worker_async
from tests.content.leads_support import import_csv, leads_of, new_lead, run_staged, stage
from tests.support.checks import fields, problem, sql
from tests.support.identity import Member, new_account, new_member


@pytest.fixture
def owner(db: DatabaseURLs) -> Member:
    return new_member(db, new_account(db), "owner")


def by_email(items: list[dict]) -> dict[str, dict]:
    return {item["email"]: item for item in items}


class TestUpload:
    async def test_the_header_is_mapped_and_the_rows_counted_at_upload(
        self, client: httpx.AsyncClient, db: DatabaseURLs, owner: Member
    ) -> None:
        started = await stage(
            client,
            owner,
            "Full Name;E-mail;Organisation;Favourite colour;Stage\nAda;a@x.io;Engines;red;NEW\n",
        )
        assert started["rows"] == 1
        assert started["columns"] == {
            "Full Name": "name",
            "E-mail": "email",
            "Organisation": "company",
            "Favourite colour": "ignore",
            "Stage": "status",
        }
        job = await client.get(f"/v1/jobs/{started['job_id']}", headers=owner.headers)
        assert job.json()["job_type"] == "lead_import" and job.json()["status"] == "pending"
        assert job.json()["input_data"] == {"import_id": started["import_id"], "rows": 1}
        # the file waits in the staging table, not in the queued job's arguments
        [(args,)] = sql(
            db,
            "SELECT q.args FROM async_jobs j JOIN procrastinate_jobs q "
            "ON q.id = j.queue_job_id WHERE j.id = %s",
            started["job_id"],
        )
        assert "Ada" not in str(args)
        assert sql(db, "SELECT count(*) FROM lead_imports WHERE id = %s", started["import_id"]) == [
            (1,)
        ]

    async def test_an_explicit_mapping_wins_over_the_header(
        self, client: httpx.AsyncClient, owner: Member
    ) -> None:
        started = await stage(
            client,
            owner,
            "who,addr,email\nAda,ada@x.io,junk\n",
            {"who": "name", "addr": "email", "email": "ignore"},
        )
        assert started["columns"] == {"who": "name", "addr": "email", "email": "ignore"}

    @pytest.mark.parametrize(
        ("csv", "mapping", "reason"),
        [
            ("", None, "string_too_short"),
            ("colour,size\nred,L\n", None, "a name or an email column"),
            ("name,full_name\nA,B\n", None, "several columns fill name"),
            ("name\nA\n", {"nope": "email"}, "does not have: nope"),
        ],
    )
    async def test_a_file_that_cannot_be_imported_is_refused_at_upload(
        self,
        client: httpx.AsyncClient,
        owner: Member,
        csv: str,
        mapping: dict[str, str] | None,
        reason: str,
    ) -> None:
        body: dict = {"csv": csv} | ({"mapping": mapping} if mapping else {})
        response = await client.post("/v1/lead-imports", json=body, headers=owner.headers)
        refused = problem(response, 422)
        assert fields(refused) == ["body.csv"]
        assert reason in str(refused)

    async def test_more_than_100000_rows_are_refused(
        self, client: httpx.AsyncClient, owner: Member
    ) -> None:
        csv = "email\n" + "".join(f"l{n}@x.io\n" for n in range(100_001))
        response = await client.post("/v1/lead-imports", json={"csv": csv}, headers=owner.headers)
        assert "more than 100000 rows" in problem(response, 422)["detail"]


class TestRows:
    async def test_rows_become_leads_normalised_and_scored(
        self, client: httpx.AsyncClient, db: DatabaseURLs, owner: Member
    ) -> None:
        report = await import_csv(
            client,
            db,
            owner,
            "name,email,company,source,tags,status,utm_source,utm_campaign\n"
            'Ada, Ada@Example.COM ,Engines,referral,"vip; math",QUALIFIED,news,spring\n'
            ",nameless@example.com,,,,,,\n"
            "No Mail,,,,,,,\n",
        )
        assert {k: report[k] for k in ("rows", "created", "updated", "refused")} == {
            "rows": 3,
            "created": 3,
            "updated": 0,
            "refused": 0,
        }
        leads = await leads_of(client, owner)
        ada = by_email(leads)["ada@example.com"]
        assert (
            ada["name"],
            ada["company"],
            ada["status"],
            ada["tags"],
            ada["utm_source"],
            ada["utm_campaign"],
        ) == ("Ada", "Engines", "QUALIFIED", ["vip", "math"], "news", "spring")
        assert ada["score"] > 0 and ada["created_by"] == owner.user_id
        assert by_email(leads)["nameless@example.com"]["name"] == "nameless@example.com"
        assert "No Mail" in [lead["name"] for lead in leads]
        assert sql(
            db, "SELECT count(*) FROM lead_imports WHERE account_id = %s", owner.account_id
        ) == [(0,)]  # the staged file is gone

    async def test_refused_rows_are_reported_with_line_and_reason(
        self, client: httpx.AsyncClient, db: DatabaseURLs, owner: Member
    ) -> None:
        report = await import_csv(
            client,
            db,
            owner,
            "name,email,status\n"
            "Good,good@x.io,NEW\n"
            "Bad mail,not-an-address,NEW\n"
            "\n"
            "Bad status,s@x.io,MAYBE\n"
            ",,\n"
            'Multi "line",m@x.io,"NEW"\n'
            "Too,many,cells,here\n"
            f"{'x' * 201},long@x.io,NEW\n",
        )
        refused = {row["line"]: row["reason"] for row in report["refused_rows"]}
        assert sorted(refused) == [3, 5, 8, 9]
        assert "not an e-mail address" in refused[3]
        assert "MAYBE" in refused[5] and "4 cells" in refused[8] and "name" in refused[9]
        assert report["refused"] == 4 and report["created"] == 2

    async def test_duplicates_in_the_file_merge_by_the_documented_rule(
        self, client: httpx.AsyncClient, db: DatabaseURLs, owner: Member
    ) -> None:
        report = await import_csv(
            client,
            db,
            owner,
            "name,email,company,phone,tags,status\n"
            "Ada,ada@x.io,Engines,,a,CONTACTED\n"
            "Ada L.,ADA@x.io,,+39 1,b,NEW\n"  # status never goes back; empty company kept
            "Ada Lovelace,ada@x.io,,,a;c,PROPOSAL_SENT\n",
        )
        assert (report["created"], report["merged_in_file"]) == (1, 2)
        ada = by_email(await leads_of(client, owner))["ada@x.io"]
        assert (ada["name"], ada["company"], ada["phone"], ada["tags"], ada["status"]) == (
            "Ada Lovelace",
            "Engines",
            "+39 1",
            ["a", "b", "c"],
            "PROPOSAL_SENT",
        )

    async def test_rows_merge_into_existing_leads_and_record_their_moves(
        self, client: httpx.AsyncClient, db: DatabaseURLs, owner: Member
    ) -> None:
        old = await new_lead(
            client, owner, name="Bob", email="bob@x.io", company="Old Co", tags=["kept"]
        )
        won = await new_lead(client, owner, name="Win", email="win@x.io", status="WON")
        same = await new_lead(client, owner, name="Same", email="same@x.io")
        report = await import_csv(
            client,
            db,
            owner,
            "name,email,company,tags,status\n"
            ",BOB@x.io,New Co,fresh,QUALIFIED\n"
            "Win,win@x.io,,,LOST\n"  # a final status stays
            "Same,same@x.io,,,\n",  # nothing new: untouched
        )
        assert {k: report[k] for k in ("created", "updated", "unchanged")} == {
            "created": 0,
            "updated": 1,
            "unchanged": 2,
        }
        bob = (await client.get(f"/v1/leads/{old['id']}", headers=owner.headers)).json()
        assert (bob["name"], bob["company"], bob["tags"], bob["status"]) == (
            "Bob",
            "New Co",
            ["kept", "fresh"],
            "QUALIFIED",
        )
        assert bob["version"] == 2
        history = await client.get(f"/v1/leads/{old['id']}/history", headers=owner.headers)
        [move] = history.json()["items"]
        assert (move["from_status"], move["to_status"], move["via"], move["changed_by"]) == (
            "NEW",
            "QUALIFIED",
            "import",
            owner.user_id,
        )
        for lead in (won, same):
            read = (await client.get(f"/v1/leads/{lead['id']}", headers=owner.headers)).json()
            assert read["version"] == lead["version"] and read["status"] == lead["status"]
        moved = sql(
            db,
            "SELECT count(*) FROM domain_events WHERE account_id = %s AND "
            "event_type = 'lead.status_changed'",
            owner.account_id,
        )
        assert moved == [(1,)]

    async def test_a_deleted_lead_is_not_merged_into(
        self, client: httpx.AsyncClient, db: DatabaseURLs, owner: Member
    ) -> None:
        gone = await new_lead(client, owner, email="gone@x.io")
        await client.delete(f"/v1/leads/{gone['id']}", headers=owner.headers)
        report = await import_csv(client, db, owner, "email\ngone@x.io\n")
        assert report["created"] == 1

    async def test_a_failure_imports_nothing(
        self, client: httpx.AsyncClient, db: DatabaseURLs, owner: Member
    ) -> None:
        started = await stage(client, owner, "name,email\nOne,one@x.io\nTwo,two@x.io\n")
        # a live lead takes one address after the upload, and its row lock is held: the
        # import's own insert of two@x.io would collide; make it collide for certain
        sql(
            db,
            "ALTER TABLE leads ADD CONSTRAINT ck_test_no_two CHECK (email <> 'two@x.io') NOT VALID",
        )
        try:
            with pytest.raises(Exception, match="ck_test_no_two"):
                await run_staged(db, owner, started["import_id"])
        finally:
            sql(db, "ALTER TABLE leads DROP CONSTRAINT ck_test_no_two")
        assert sql(db, "SELECT count(*) FROM leads WHERE account_id = %s", owner.account_id) == [
            (0,)
        ]
        assert sql(db, "SELECT count(*) FROM lead_imports WHERE id = %s", started["import_id"]) == [
            (1,)
        ]  # still staged for the retry

    async def test_an_import_run_twice_imports_once(
        self, client: httpx.AsyncClient, db: DatabaseURLs, owner: Member
    ) -> None:
        started = await stage(client, owner, "email\nonce@x.io\n")
        await run_staged(db, owner, started["import_id"])
        assert await run_staged(db, owner, started["import_id"]) == {"already_imported": True}
        assert len(await leads_of(client, owner)) == 1


class TestJob:
    async def test_the_worker_runs_the_import_and_the_job_reports_it(
        self, client: httpx.AsyncClient, db: DatabaseURLs
    ) -> None:
        member = new_member(db, new_account(db))
        csv = "name,email\n" + "".join(f"L{n},l{n}@x.io\n" for n in range(300)) + "bad,nope\n"
        started = await stage(client, member, csv)
        await run_worker_async(
            db, concurrency=1, queues=["content"], wait=False, install_signal_handlers=False
        )
        job = (await client.get(f"/v1/jobs/{started['job_id']}", headers=member.headers)).json()
        assert job["status"] == "succeeded" and job["progress_percent"] == 100
        result = job["result_data"]
        assert (result["created"], result["refused"]) == (300, 1)
        assert result["refused_rows"] == [
            {"line": 302, "reason": result["refused_rows"][0]["reason"]}
        ]
        assert len(await leads_of(client, member)) == 200  # a full page

    async def test_another_account_cannot_follow_the_job(
        self, client: httpx.AsyncClient, db: DatabaseURLs, owner: Member
    ) -> None:
        started = await stage(client, owner, "email\nmine@x.io\n")
        stranger = new_member(db, new_account(db))
        problem(await client.get(f"/v1/jobs/{started['job_id']}", headers=stranger.headers), 404)


class TestStagedFiles:
    async def test_a_file_no_job_will_import_is_purged_an_hour_after_its_upload(
        self, client: httpx.AsyncClient, db: DatabaseURLs, owner: Member
    ) -> None:
        cancelled = await stage(client, owner, "email\ncancelled@x.io\n")
        cancel = await client.post(f"/v1/jobs/{cancelled['job_id']}/cancel", headers=owner.headers)
        assert cancel.status_code == 200, cancel.text
        waiting = await stage(client, owner, "email\nwaiting@x.io\n")
        recent = await stage(client, owner, "email\nrecent@x.io\n")
        await client.post(f"/v1/jobs/{recent['job_id']}/cancel", headers=owner.headers)
        sql(
            db,
            "UPDATE lead_imports SET created_at = now() - interval '2 hours' WHERE id IN (%s, %s)",
            cancelled["import_id"],
            waiting["import_id"],
        )
        jobs.configure_maintenance(as_libpq_url(db.owner))
        assert await purge_abandoned_lead_imports(timestamp=0) >= 1
        left = {
            str(i)
            for (i,) in sql(
                db, "SELECT id FROM lead_imports WHERE account_id = %s", owner.account_id
            )
        }
        assert left == {waiting["import_id"], recent["import_id"]}

    def test_the_application_role_cannot_purge(self, db: DatabaseURLs) -> None:
        with bootstrap.connect(db.app) as app, pytest.raises(psycopg.errors.InsufficientPrivilege):
            app.execute("SELECT purge_abandoned_lead_imports()")
