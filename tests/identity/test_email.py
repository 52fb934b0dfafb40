"""E-mail: the SMTP adapter against a real SMTP conversation on 127.0.0.1, the
`identity.send_email` job, queueing on the caller's transaction (the body encrypted: no
one-time token lies readable in the jobs table), and the development mailer.

The SMTP server is a small one written here on asyncio streams (aiosmtpd is not among the
dev dependencies yet); smtplib speaks real SMTP to it, AUTH and dot-stuffing included.
"""

from __future__ import annotations

import asyncio
import base64
import email.message
import email.policy
import re
import socket
import urllib.parse
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from email.parser import BytesParser
from typing import Any

import pytest
import structlog
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from markettina.adapters.email import (
    DevelopmentLogMailer,
    SmtpConfig,
    SmtpMailer,
    mailer_from_settings,
)
from markettina.identity import tasks
from markettina.identity.mail import (
    EmailMessage,
    Mailer,
    bind_mailer,
    bound_mailer,
    queue_email,
)
from markettina.kernel.db.engine import open_database
from markettina.kernel.db.unit_of_work import unit_of_work
from markettina.kernel.db.urls import DatabaseURLs
from markettina.kernel.security import SecretBox
from markettina.settings import Settings
from markettina.worker import run_worker_async
from tests.support.api import api_client, make_app
from tests.support.emails import BOX
from tests.support.identity import new_account, new_member
from tests.support.webhooks import worker_settings

SUBJECT = "Bienvenue — confirmez votre adresse"
BODY = "Bonjour Zoé,\n\n.a line that starts with a dot\nhttps://example.com/verify?token=abc\n"


@dataclass
class Delivery:
    mail_from: str
    rcpt_to: list[str]
    data: bytes

    @property
    def message(self) -> email.message.EmailMessage:
        parsed = BytesParser(policy=email.policy.default).parsebytes(self.data)
        assert isinstance(parsed, email.message.EmailMessage)
        return parsed

    @property
    def body(self) -> str:
        content = self.message.get_content()
        assert isinstance(content, str)
        return content.replace("\r\n", "\n")


@dataclass
class FakeSmtpServer:
    """Enough of RFC 5321 for smtplib: EHLO/HELO, AUTH PLAIN, MAIL, RCPT, DATA, RSET, QUIT."""

    refuse_recipients: bool = False
    deliveries: list[Delivery] = field(default_factory=list)
    logins: list[tuple[str, str]] = field(default_factory=list)
    port: int = 0
    _server: asyncio.Server | None = None

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._conversation, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        assert self._server is not None
        self._server.close()
        await self._server.wait_closed()

    def config(self, **overrides: Any) -> SmtpConfig:
        values: dict[str, Any] = {"host": "127.0.0.1", "port": self.port, "starttls": False,
                                  "sender": "Markettina <no-reply@markettina.test>"}  # fmt: skip
        return SmtpConfig(**(values | overrides))

    async def _conversation(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        async def reply(*lines: str) -> None:
            for i, line in enumerate(lines):
                separator = " " if i == len(lines) - 1 else "-"
                writer.write(f"{line[:3]}{separator}{line[4:]}\r\n".encode())
            await writer.drain()

        await reply("220 fake.test ESMTP")
        mail_from, rcpt_to = "", []
        while line := await reader.readline():
            command = line.decode().rstrip("\r\n")
            verb = command.split(" ", 1)[0].upper()
            if verb == "EHLO":
                await reply("250 fake.test", "250 AUTH PLAIN", "250 8BITMIME")
            elif verb == "HELO":
                await reply("250 fake.test")
            elif verb == "AUTH":
                _, _, initial = command.split(" ", 2)
                _, username, password = base64.b64decode(initial).decode().split("\0")
                self.logins.append((username, password))
                await reply("235 2.7.0 authenticated")
            elif verb == "MAIL":
                mail_from = command.partition(":")[2].split()[0].strip("<>")
                await reply("250 OK")
            elif verb == "RCPT":
                if self.refuse_recipients:
                    await reply("550 5.1.1 no such mailbox")
                    continue
                rcpt_to.append(command.partition(":")[2].split()[0].strip("<>"))
                await reply("250 OK")
            elif verb == "DATA":
                await reply("354 end with <CR><LF>.<CR><LF>")
                lines = []
                while (data_line := await reader.readline()) != b".\r\n":
                    lines.append(data_line[1:] if data_line.startswith(b"..") else data_line)
                self.deliveries.append(Delivery(mail_from, rcpt_to, b"".join(lines)))
                mail_from, rcpt_to = "", []
                await reply("250 OK queued")
            elif verb in ("RSET", "NOOP"):
                mail_from, rcpt_to = ("", []) if verb == "RSET" else (mail_from, rcpt_to)
                await reply("250 OK")
            elif verb == "QUIT":
                await reply("221 bye")
                break
            else:
                await reply("502 not implemented")
        writer.close()


@pytest.fixture
async def smtp() -> AsyncIterator[FakeSmtpServer]:
    server = FakeSmtpServer()
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
def bound() -> Iterator[None]:
    """Whatever a test binds is unbound after it."""
    yield
    bind_mailer(None)


def new_email() -> str:
    return f"person-{uuid.uuid4().hex[:10]}@example.com"


class TestSmtpMailer:
    async def test_delivers_to_subject_and_body(self, smtp: FakeSmtpServer) -> None:
        mailer = SmtpMailer(smtp.config(username="mailer", password="s3cret"))
        await mailer.send(EmailMessage(to="zoe@example.com", subject=SUBJECT, text=BODY))

        [delivery] = smtp.deliveries
        assert delivery.mail_from == "no-reply@markettina.test"
        assert delivery.rcpt_to == ["zoe@example.com"]
        message = delivery.message
        assert message["To"] == "zoe@example.com"
        assert message["From"] == "Markettina <no-reply@markettina.test>"
        assert message["Subject"] == SUBJECT
        assert message["Message-ID"].endswith("@markettina.test>") and message["Date"]
        assert delivery.body == BODY
        assert smtp.logins == [("mailer", "s3cret")]

    async def test_no_login_without_a_username(self, smtp: FakeSmtpServer) -> None:
        await SmtpMailer(smtp.config()).send(EmailMessage("a@example.com", "Hi", "Hello\n"))
        assert smtp.logins == [] and len(smtp.deliveries) == 1

    async def test_a_refusal_raises_so_the_job_is_retried(self, smtp: FakeSmtpServer) -> None:
        smtp.refuse_recipients = True
        with pytest.raises(Exception, match="no such mailbox"):
            await SmtpMailer(smtp.config()).send(EmailMessage("a@example.com", "Hi", "Hello\n"))
        assert smtp.deliveries == []

    async def test_an_unreachable_server_raises(self) -> None:
        with socket.socket() as probe:  # a port nothing listens on once the probe closes
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        mailer = SmtpMailer(SmtpConfig(host="127.0.0.1", port=port, starttls=False))
        with pytest.raises(OSError):
            await mailer.send(EmailMessage("a@example.com", "Hi", "Hello\n"))


class TestSendEmailJob:
    def test_registered_on_the_email_queue_with_backoff(self) -> None:
        assert tasks.send_email.name == "identity.send_email"
        assert tasks.send_email.queue == "email"
        strategy = tasks.send_email.retry_strategy
        assert strategy is not None
        assert strategy.max_attempts == 5 and strategy.exponential_wait == 5

    async def test_sends_through_the_bound_smtp_mailer(
        self, smtp: FakeSmtpServer, bound: None
    ) -> None:
        bind_mailer(SmtpMailer(smtp.config()))
        with worker_settings():
            await tasks.send_email(
                to="zoe@example.com", subject=SUBJECT, sealed_text=BOX.encrypt(BODY)
            )
        [delivery] = smtp.deliveries
        assert delivery.message["To"] == "zoe@example.com"
        assert delivery.message["Subject"] == SUBJECT
        assert delivery.body == BODY

    async def test_without_a_bound_mailer_the_job_fails(self, bound: None) -> None:
        bind_mailer(None)
        with worker_settings(), pytest.raises(RuntimeError, match="no mailer is bound"):
            await tasks.send_email(
                to="zoe@example.com", subject="Hi", sealed_text=BOX.encrypt("Hello\n")
            )

    async def test_a_worker_without_the_apis_keys_sends_nothing(
        self, smtp: FakeSmtpServer, bound: None
    ) -> None:
        bind_mailer(SmtpMailer(smtp.config()))
        other_keys = f'["{SecretBox.new_key()}"]'
        with worker_settings(MARKETTINA_ENCRYPTION_KEYS=other_keys), pytest.raises(ValueError):
            await tasks.send_email(
                to="zoe@example.com", subject="Hi", sealed_text=BOX.encrypt("Hello\n")
            )
        assert smtp.deliveries == []

    async def test_the_queued_job_of_a_registration_delivers_a_working_link(
        self, fresh_db: DatabaseURLs, smtp: FakeSmtpServer, bound: None
    ) -> None:
        address = new_email()
        async with api_client(make_app(fresh_db)) as client:
            registered = await client.post(
                "/v1/auth/register", json={"email": address, "password": "long enough pw"}
            )
            assert registered.status_code == 201, registered.text

            # what a worker does with the job: its stored arguments, through the bound mailer
            [job] = await email_jobs(fresh_db)
            assert job.pop("queue") == "email"
            bind_mailer(SmtpMailer(smtp.config()))
            with worker_settings():
                await tasks.send_email(**job)
            [delivery] = smtp.deliveries
            assert delivery.rcpt_to == [address]
            assert delivery.message["Subject"] == "Confirm your e-mail address for Markettina"
            found = re.search(r"/verify-email\?token=([A-Za-z0-9_-]+)", delivery.body)
            assert found, delivery.body

            verified = await client.post("/v1/auth/verify-email", json={"token": found[1]})
            assert verified.status_code == 204, verified.text
            access_token = registered.json()["tokens"]["access_token"]
            me = await client.get("/v1/me", headers={"Authorization": f"Bearer {access_token}"})
            assert me.json()["is_verified"] is True


async def email_jobs(urls: DatabaseURLs) -> list[dict[str, Any]]:
    """The arguments of every queued `identity.send_email` job (as the owner)."""
    engine = create_async_engine(urls.owner, poolclass=NullPool)
    try:
        async with engine.connect() as conn:
            rows = await conn.execute(
                text("SELECT queue_name, args FROM procrastinate_jobs "
                     "WHERE task_name = 'identity.send_email' ORDER BY id")
            )  # fmt: skip
            return [{"queue": row.queue_name, **row.args} for row in rows]
    finally:
        await engine.dispose()


async def all_job_arguments(urls: DatabaseURLs) -> str:
    """Every job's stored arguments, as one text (what the app role could read)."""
    engine = create_async_engine(urls.owner, poolclass=NullPool)
    try:
        async with engine.connect() as conn:
            found = await conn.scalar(
                text("SELECT string_agg(args::text, ' ') FROM procrastinate_jobs")
            )
            return str(found or "")
    finally:
        await engine.dispose()


def stored_forms(token: str) -> set[str]:
    """The token as a job could hold it: raw, URL-encoded, and its secret part alone."""
    forms = {token, urllib.parse.quote(token, safe=""), urllib.parse.quote_plus(token)}
    forms.add(token.rpartition(".")[2])  # an invitation's token is "<account id>.<secret>"
    return forms


class TestNoTokenInJobArguments:
    async def test_links_travel_encrypted_and_the_worker_delivers_them_working(
        self, fresh_db: DatabaseURLs, smtp: FakeSmtpServer, bound: None
    ) -> None:
        address = new_email()
        owner = new_member(fresh_db, new_account(fresh_db), "owner")
        async with api_client(make_app(fresh_db)) as client:
            registered = await client.post(
                "/v1/auth/register", json={"email": address, "password": "long enough pw"}
            )
            assert registered.status_code == 201, registered.text
            person = {"Authorization": f"Bearer {registered.json()['tokens']['access_token']}"}
            resent = await client.post("/v1/auth/verify-email/resend", headers=person)
            assert resent.status_code == 202, resent.text
            invited = await client.post(
                "/v1/account/invitations", json={"email": address, "role": "editor"},
                headers=owner.headers,
            )  # fmt: skip
            assert invited.status_code == 201, invited.text
            reset = await client.post("/v1/auth/password-reset", json={"email": address})
            assert reset.status_code == 202, reset.text

            # a worker with the API's keys, speaking SMTP to the fake server
            smtp_env = {"MARKETTINA_SMTP_HOST": "127.0.0.1", "MARKETTINA_SMTP_PORT": str(smtp.port),
                        "MARKETTINA_SMTP_STARTTLS": "false"}  # fmt: skip
            with worker_settings(**smtp_env):
                await run_worker_async(
                    fresh_db, concurrency=1, queues=["email"], wait=False,
                    install_signal_handlers=False,
                )  # fmt: skip
            assert [d.rcpt_to for d in smtp.deliveries] == [[address]] * 4
            links = {}
            for delivery in smtp.deliveries:
                found = re.search(r"/([a-z-]+)\?token=(\S+)", delivery.body)
                assert found, delivery.body
                links.setdefault(found[1], []).append(found[2])
            assert sorted(links) == ["accept-invitation", "reset-password", "verify-email"]
            tokens = [token for sent in links.values() for token in sent]
            assert len(set(tokens)) == 4

            arguments = await all_job_arguments(fresh_db)
            assert address in arguments  # the jobs are there, their bodies unreadable
            for token in tokens:
                for form in stored_forms(token):
                    assert form not in arguments

            # each link works
            accepted = await client.post(
                "/v1/invitations/accept", json={"token": links["accept-invitation"][0]},
                headers=person,
            )  # fmt: skip
            assert accepted.status_code == 200, accepted.text
            verified = await client.post(
                "/v1/auth/verify-email", json={"token": links["verify-email"][1]}
            )
            assert verified.status_code == 204, verified.text
            new_password = await client.post(
                "/v1/auth/password-reset/confirm",
                json={"token": links["reset-password"][0], "new_password": "another long pw"},
            )
            assert new_password.status_code == 204, new_password.text


class TestQueueEmail:
    async def test_the_job_lives_and_dies_with_the_transaction(
        self, fresh_db: DatabaseURLs
    ) -> None:
        database = open_database(fresh_db.app)
        try:
            async with unit_of_work(database.sessions, account_id=None) as session:
                await queue_email(
                    session, box=BOX, to="kept@example.com", subject="Kept", text="Hello\n"
                )
            with pytest.raises(ZeroDivisionError):
                async with unit_of_work(database.sessions, account_id=None) as session:
                    await queue_email(
                        session, box=BOX, to="lost@example.com", subject="Lost", text="x"
                    )
                    _ = 1 / 0
        finally:
            await database.dispose()

        [job] = await email_jobs(fresh_db)
        sealed = job.pop("sealed_text")
        assert job == {"queue": "email", "to": "kept@example.com", "subject": "Kept"}
        assert "Hello" not in sealed and BOX.decrypt(sealed) == "Hello\n"


class TestDevelopmentMailer:
    async def test_writes_the_message_to_the_log(self) -> None:
        with structlog.testing.capture_logs() as logs:
            await DevelopmentLogMailer().send(EmailMessage("zoe@example.com", SUBJECT, BODY))
        [entry] = logs
        assert entry["event"] == "email_not_sent_development_mailer"
        assert (entry["to"], entry["subject"], entry["text"]) == ("zoe@example.com", SUBJECT, BODY)


class _SettingsWithSmtp(Settings):
    """The settings as they will be once the SMTP fields are added."""

    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_username: str | None = None
    smtp_starttls: bool = True


class TestMailerFromSettings:
    def test_development_mailer_when_no_smtp_host(self) -> None:
        chosen: Mailer = mailer_from_settings(Settings(environment="development"))
        assert isinstance(chosen, DevelopmentLogMailer)

    def test_production_refuses_to_log_mail(self) -> None:
        with pytest.raises(RuntimeError, match="MARKETTINA_SMTP_HOST"):
            mailer_from_settings(Settings(environment="production"))

    async def test_smtp_when_a_host_is_set(self, smtp: FakeSmtpServer, bound: None) -> None:
        settings = _SettingsWithSmtp(smtp_host="127.0.0.1", smtp_port=smtp.port,
                                     smtp_starttls=False)  # fmt: skip
        chosen = mailer_from_settings(settings)
        assert isinstance(chosen, SmtpMailer)
        bind_mailer(chosen)
        await bound_mailer().send(EmailMessage("zoe@example.com", "Hi", "Hello\n"))
        assert [d.rcpt_to for d in smtp.deliveries] == [["zoe@example.com"]]
