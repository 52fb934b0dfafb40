"""HTTP routes of sign-in: registration, e-mail verification, sessions, password reset, and
the signed-in person's own profile (``/v1/me``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Request, status

from markettina.kernel.web.openapi import problems

from .. import sign_in
from ..admission import AddressLimited
from ..dependencies import CurrentActor, Transaction
from ..models import User
from ..principal import Actor
from ..schemas.auth import (
    AccountOut,
    LoginIn,
    MeOut,
    PasswordResetConfirmIn,
    PasswordResetIn,
    ProfileOut,
    ProfileUpdateIn,
    RefreshIn,
    RegisteredOut,
    RegisterIn,
    TokenPairOut,
    VerifyEmailIn,
)

router = APIRouter(tags=["auth"])


def _policy(request: Request) -> sign_in.SignInPolicy:
    secrets = request.app.state.secrets
    return sign_in.SignInPolicy.from_settings(
        request.app.state.settings, secret_key=secrets.secret_key, box=secrets.box
    )


def _client(request: Request, user_agent: Annotated[str | None, Header()] = None) -> sign_in.Client:
    host = request.client.host if request.client else None
    return sign_in.Client.of(user_agent=user_agent, host=host)


Policy = Annotated[sign_in.SignInPolicy, Depends(_policy)]
Client = Annotated[sign_in.Client, Depends(_client)]


def _tokens(signed_in: sign_in.SignedIn) -> TokenPairOut:
    return TokenPairOut(
        access_token=signed_in.access_token,
        refresh_token=signed_in.refresh_token,
        expires_in=signed_in.expires_in,
        account_id=signed_in.account_id,
    )


def _me(user: User, actor: Actor) -> MeOut:
    profile = ProfileOut.model_validate(user, from_attributes=True)
    return MeOut(**profile.model_dump(), account_id=actor.account_id, role=actor.role)


@router.post(
    "/auth/register",
    status_code=status.HTTP_201_CREATED,
    dependencies=[AddressLimited],
    responses=problems(409),
)
async def register(
    body: RegisterIn, session: Transaction, policy: Policy, client: Client
) -> RegisteredOut:
    """Create a person, their own account (they own it) and its token wallet; sign them in.
    A verification link goes to the address; `user.is_verified` says whether it was opened."""
    registered = await sign_in.register(
        session, email=str(body.email), password=body.password, full_name=body.full_name,
        policy=policy, client=client, referral_code=body.referral_code,
    )  # fmt: skip
    return RegisteredOut(
        user=ProfileOut.model_validate(registered.user, from_attributes=True),
        account=AccountOut.model_validate(registered.account, from_attributes=True),
        tokens=_tokens(registered.session),
    )


@router.post(
    "/auth/verify-email", status_code=status.HTTP_204_NO_CONTENT, dependencies=[AddressLimited]
)
async def verify_email(body: VerifyEmailIn, session: Transaction) -> None:
    await sign_in.verify_email(session, token=body.token)


@router.post("/auth/verify-email/resend", status_code=status.HTTP_202_ACCEPTED)
async def resend_verification(actor: CurrentActor, session: Transaction, policy: Policy) -> None:
    """Send a new verification link to the signed-in person (the old ones still work)."""
    await sign_in.resend_verification(session, actor=actor, policy=policy)


@router.post("/auth/login", dependencies=[AddressLimited], responses=problems(401))
async def login(
    body: LoginIn, session: Transaction, policy: Policy, client: Client
) -> TokenPairOut:
    """An unknown address and a wrong password get the same 401 `invalid_credentials`. After
    too many failures from one client address, sign-in from that address is locked (429
    `login_locked`, `Retry-After`); after many more from all addresses, from every address."""
    signed_in = await sign_in.login(
        session, email=body.email, password=body.password, policy=policy, client=client
    )
    return _tokens(signed_in)


@router.post("/auth/refresh", dependencies=[AddressLimited], responses=problems(401))
async def refresh(
    body: RefreshIn, session: Transaction, policy: Policy, client: Client
) -> TokenPairOut:
    """Trade a refresh token for a new pair. A token used twice ends its whole session
    (401 `refresh_token_reused`)."""
    signed_in = await sign_in.refresh(
        session, refresh_token=body.refresh_token, policy=policy, client=client
    )
    return _tokens(signed_in)


@router.post("/auth/logout", status_code=status.HTTP_204_NO_CONTENT)
async def logout(actor: CurrentActor, session: Transaction) -> None:
    """End this session: its refresh tokens and access tokens stop working."""
    await sign_in.logout(session, actor=actor)


@router.post(
    "/auth/password-reset", status_code=status.HTTP_202_ACCEPTED, dependencies=[AddressLimited]
)
async def request_password_reset(body: PasswordResetIn, session: Transaction,
                                 policy: Policy) -> None:  # fmt: skip
    """Always 202: the answer never tells whether the address is registered."""
    await sign_in.request_password_reset(session, email=body.email, policy=policy)


@router.post(
    "/auth/password-reset/confirm",
    status_code=status.HTTP_204_NO_CONTENT,
    dependencies=[AddressLimited],
)
async def reset_password(body: PasswordResetConfirmIn, session: Transaction) -> None:
    """Set a new password with the link's token; every session of the person ends."""
    await sign_in.reset_password(session, token=body.token, new_password=body.new_password)


@router.get("/me")
async def get_me(actor: CurrentActor, session: Transaction) -> MeOut:
    return _me(await sign_in.get_profile(session, actor=actor), actor)


@router.patch("/me")
async def update_me(
    body: ProfileUpdateIn,
    actor: CurrentActor,
    session: Transaction,
    policy: Policy,
    client: Client,
) -> MeOut:
    """Change the name, or the password with the current one (your other sessions end)."""
    user = await sign_in.update_profile(
        session, actor=actor, full_name=body.full_name, current_password=body.current_password,
        new_password=body.new_password, policy=policy, client=client,
    )  # fmt: skip
    return _me(user, actor)
