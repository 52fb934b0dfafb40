"""Invoice PDFs carry any text the invoice holds: the euro sign, accents and non-Latin
scripts come out of the PDF as they went in, never as "?"."""

from __future__ import annotations

import datetime as dt
import io
import uuid
from decimal import Decimal

from pypdf import PdfReader

from markettina.billing.invoice_pdf import Seller, render_invoice_pdf
from markettina.billing.models import Invoice, InvoiceItem

NAME = "Łukasz Żółć — Ελληνικά & Русский"
DESCRIPTION = "Pacchetto da 1000 token a 100 € (più IVA)"


def _invoice() -> tuple[Invoice, list[InvoiceItem]]:
    invoice = Invoice(
        id=uuid.uuid4(), account_id=uuid.uuid4(), invoice_number="2026-000042",
        kind="invoice", status="issued", currency="EUR", issue_date=dt.date(2026, 12, 2),
        subtotal_cents=10000, tax_cents=2200, total_cents=12200, tax_rate=Decimal("0.22"),
        billing_name=NAME, billing_address="Via Garibaldi 1\n10122 Torino", billing_email=None,
        billing_vat_id=None, due_date=None, paid_at=None,
    )  # fmt: skip
    item = InvoiceItem(description=DESCRIPTION, quantity=1, unit_price_cents=10000,
                       total_cents=10000)  # fmt: skip
    return invoice, [item]


def test_the_euro_sign_and_other_scripts_survive_into_the_pdf() -> None:
    invoice, items = _invoice()
    pdf = render_invoice_pdf(invoice, items, Seller(name="Markettina S.r.l. €", vat_id="IT1"))

    reader = PdfReader(io.BytesIO(pdf))
    text = "".join(page.extract_text() for page in reader.pages)

    assert "€" in text and "?" not in text
    for expected in ("100 €", "Łukasz Żółć", "Ελληνικά", "Русский", "Markettina S.r.l. €",
                     "2026-000042", "122.00 EUR"):  # fmt: skip
        assert expected in text, expected
    assert reader.metadata is not None and reader.metadata.author == "Markettina S.r.l. €"
