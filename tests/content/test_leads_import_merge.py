"""The import's merge rule as properties: for any rows sharing e-mails, in any order,
merging gives one lead per e-mail whose text fields are the last non-empty values, whose
tags are the union in order first seen, and whose status never moved backwards."""

from __future__ import annotations

from email_validator import EmailNotValidError, validate_email
from hypothesis import given
from hypothesis import strategies as st

from markettina.content.lead_import import LeadRow, address, merge, merge_file
from markettina.content.lead_pipeline import FINAL, RANK

EMAILS = st.sampled_from(["a@x.io", "b@x.io", "c@x.io", None])
TEXT = st.sampled_from([None, "", "one", "two", "three"])
STATUS = st.sampled_from([None, *RANK])
TAGS = st.lists(st.sampled_from(["t1", "t2", "t3", "t4"]), unique=True, max_size=3)


@st.composite
def rows(draw: st.DrawFn) -> list[LeadRow]:
    made = []
    for line in range(2, 2 + draw(st.integers(0, 12))):
        values = {"email": draw(EMAILS), "name": draw(TEXT), "company": draw(TEXT)}
        made.append(LeadRow(line, values=values, status=draw(STATUS), tags=draw(TAGS)))
    return made


def expected_status(statuses: list[str | None]) -> str | None:
    """The first final status met, else the furthest one (None if none was given)."""
    given_ = [s for s in statuses if s is not None]
    final = [s for s in given_ if s in FINAL]
    if final:
        return final[0]
    return max(given_, key=RANK.__getitem__) if given_ else None


@given(rows())
def test_one_row_per_email_by_the_documented_rule(file: list[LeadRow]) -> None:
    merged, folded = merge_file(file)
    emails = [row.email for row in file if row.email]
    assert folded == len(emails) - len(set(emails))
    without_email = [row for row in file if row.email is None]
    assert [row for row in merged if row.email is None] == without_email
    by_email = {row.email: row for row in merged if row.email}
    assert len(by_email) == len(set(emails))
    for email, row in by_email.items():
        same = [r for r in file if r.email == email]
        assert row.line == same[0].line
        for name in ("name", "company"):
            non_empty = [r.values[name] for r in same if r.values[name]]
            assert row.values.get(name) == (non_empty[-1] if non_empty else same[0].values[name])
        assert row.tags == list(dict.fromkeys(t for r in same for t in r.tags))
        assert row.status == expected_status([r.status for r in same])


@given(rows(), STATUS)
def test_merging_into_an_existing_lead_never_moves_its_status_backwards(
    file: list[LeadRow], existing_status: str | None
) -> None:
    existing = LeadRow(
        0, values={"email": "a@x.io", "name": "kept"}, status=existing_status or "NEW", tags=["old"]
    )
    merged, _ = merge_file(file)
    for row in merged:
        if row.email != "a@x.io":
            continue
        final = merge(existing, row)
        if existing.status in FINAL:
            assert final.status == existing.status
        else:
            assert final.status in FINAL or RANK[final.status] >= RANK[existing.status]
        assert final.tags[0] == "old"
        assert final.values["name"] == (row.values.get("name") or "kept")
        # merging the file row by row gives the same lead as merging the merged row
        stepwise = existing
        for step in [r for r in file if r.email == "a@x.io"]:
            stepwise = merge(stepwise, step)
        assert (stepwise.values, stepwise.tags, stepwise.status) == (
            final.values,
            final.tags,
            final.status,
        )


@given(
    st.one_of(st.emails(), st.text(max_size=40), st.from_regex(r"[a-zA-Z.]{1,10}@[a-z.-]{1,12}"))
)
def test_the_fast_address_check_agrees_with_email_validator(value: str) -> None:
    """The import's cached check says what the API's e-mail validation says."""
    try:
        expected: str | None = validate_email(value, check_deliverability=False).normalized.lower()
    except EmailNotValidError:
        expected = None
    try:
        found: str | None = address(value)
    except EmailNotValidError:
        found = None
    assert found == expected
