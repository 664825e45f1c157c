"""Phone numbers are normalised in one place, masked in lists and scrubbed from logs."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from hypothesis import given
from hypothesis import strategies as st

from workroom.audit.log import record, scrub
from workroom.audit.models import AuditEvent
from workroom.errors import DomainError
from workroom.privacy import mask_phone, normalize_mobile


@pytest.mark.parametrize(
    "written",
    [
        "13800138000",
        "138 0013 8000",
        "138-0013-8000",
        "+86 13800138000",
        "+86-138-0013-8000",
        "0086-138-0013-8000",
        "8613800138000",
        "(138) 0013 8000",
        "１３８００１３８０００",
        "＋８６ １３８－００１３－８０００",
        " 138\u30000013\u30008000 ",
    ],
)
def test_mobile_numbers_are_normalised(written: str) -> None:
    assert normalize_mobile(written) == "13800138000"


@pytest.mark.parametrize(
    "written",
    [
        "",
        "12345",
        "23800138000",
        "12800138000",
        "1380013800",
        "138001380001",
        "1380013800O",
        "abc13800138000",
        "138OO138000",
        "0731-58581234",
    ],
)
def test_invalid_mobile_numbers_are_refused(written: str) -> None:
    with pytest.raises(DomainError) as raised:
        normalize_mobile(written, field="mobile")
    assert raised.value.field == "mobile"


def test_phone_numbers_are_masked() -> None:
    assert mask_phone("13800138000") == "138****8000"
    assert mask_phone("073158581234") == "073****1234"
    assert mask_phone("") == ""
    assert mask_phone(None) == ""


def test_scrub_masks_mobiles_and_id_numbers() -> None:
    text = "王先生 13800138000，身份证 430302199001011234，邻居 43030219900101123X。"
    scrubbed = scrub(text)
    assert "13800138000" not in scrubbed
    assert "138****8000" in scrubbed
    assert "430302199001011234" not in scrubbed
    assert "430302********1234" in scrubbed
    assert "430302********123X" in scrubbed
    assert scrubbed.startswith("王先生 ")


def test_scrub_leaves_other_numbers_alone() -> None:
    text = "工单 2026112800001，电话 0731-58581234，12 户"
    assert scrub(text) == text


def test_audit_summaries_never_hold_a_full_mobile(db) -> None:
    record("visit.note", summary="回电 13800138000，证件 430302199001011234")
    db.session.commit()
    summary = db.session.scalar(
        sa.select(AuditEvent.summary).where(AuditEvent.action == "visit.note")
    )
    assert summary == "回电 138****8000，证件 430302********1234"


_FULL_WIDTH = {str(d): chr(ord("０") + d) for d in range(10)}

mobiles = st.builds(
    lambda second, rest: "1" + second + rest,
    st.sampled_from("3456789"),
    st.text(alphabet="0123456789", min_size=9, max_size=9),
)
separators = st.sampled_from(["", "", " ", "-", "\u3000", "－", "–", "."])


@st.composite
def written_mobiles(draw: st.DrawFn) -> tuple[str, str]:
    number = draw(mobiles)
    prefix = draw(st.sampled_from(["", "+86", "+86 ", "0086", "0086-", "86", "＋８６ "]))
    digits = [
        _FULL_WIDTH[c] if draw(st.booleans()) else c  # full-width digits, one by one
        for c in number
    ]
    written = prefix + "".join(d + draw(separators) for d in digits[:-1]) + digits[-1]
    return number, written


@given(written_mobiles())
def test_any_written_mobile_normalises_back(case: tuple[str, str]) -> None:
    number, written = case
    assert normalize_mobile(written) == number
    assert mask_phone(normalize_mobile(written)) == number[:3] + "****" + number[-4:]
