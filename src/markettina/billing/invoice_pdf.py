"""An invoice (or credit note) as a PDF, rendered on demand from the stored invoice: the
stored rows are the record, so the document cannot drift from them."""

from __future__ import annotations

import datetime as dt
import importlib.util
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import cast

from fpdf import FPDF

from .models import Invoice, InvoiceItem

FONT = "DejaVu"


@dataclass(frozen=True)
class Seller:
    name: str
    address: str = ""
    vat_id: str = ""


@cache
def _font_dir() -> Path:
    """DejaVu Sans as matplotlib's wheel ships it (a locked dependency, so every install has
    it, unlike a system font); found without importing matplotlib."""
    spec = importlib.util.find_spec("matplotlib")
    if spec is None or spec.origin is None:
        raise RuntimeError("matplotlib, whose DejaVu Sans the invoices use, is not installed")
    return Path(spec.origin).parent / "mpl-data" / "fonts" / "ttf"


def _unicode_pdf() -> FPDF:
    """An A4 document whose font covers the euro sign, accents and non-Latin scripts (the
    PDF core fonts speak Latin-1 only)."""
    pdf = FPDF(format="A4")
    for style, suffix in (("", ""), ("B", "-Bold"), ("I", "-Oblique")):
        pdf.add_font(FONT, style, _font_dir() / f"DejaVuSans{suffix}.ttf")
    return pdf


def _money(cents: int, currency: str) -> str:
    sign = "-" if cents < 0 else ""
    whole, part = divmod(abs(cents), 100)
    return f"{sign}{whole:,}.{part:02d} {currency}"


def _rate(rate: Decimal | None) -> str:
    return "VAT" if rate is None else f"VAT {(rate * 100).normalize():f}%"


def render_invoice_pdf(invoice: Invoice, items: list[InvoiceItem], seller: Seller) -> bytes:
    title = "Credit note" if invoice.kind == "credit_note" else "Invoice"
    pdf = _unicode_pdf()
    pdf.set_title(f"{title} {invoice.invoice_number}")
    pdf.set_author(seller.name)
    # dated by the invoice, not the clock: the same invoice renders to the same bytes
    pdf.set_creation_date(dt.datetime.combine(invoice.issue_date, dt.time(), dt.UTC))
    pdf.add_page()
    width = pdf.epw

    pdf.set_font(FONT, "B", 18)
    pdf.cell(width, 10, f"{title} {invoice.invoice_number}", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, size=10)
    dates = f"Issued {invoice.issue_date.isoformat()}"
    if invoice.due_date:
        dates += f" - due {invoice.due_date.isoformat()}"
    if invoice.paid_at:
        dates += f" - paid {invoice.paid_at.date().isoformat()}"
    pdf.cell(width, 6, dates, new_x="LMARGIN", new_y="NEXT")
    pdf.cell(width, 6, f"Status: {invoice.status}", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)

    top = pdf.get_y()
    half = width / 2
    _party(
        pdf,
        "From",
        [seller.name, seller.address, f"VAT id {seller.vat_id}" if seller.vat_id else ""],
        half,
    )
    bottom = pdf.get_y()
    pdf.set_xy(pdf.l_margin + half, top)
    buyer = [
        invoice.billing_name or "",
        invoice.billing_address or "",
        f"VAT id {invoice.billing_vat_id}" if invoice.billing_vat_id else "",
        invoice.billing_email or "",
    ]
    _party(pdf, "Bill to", buyer, half, x=pdf.l_margin + half)
    pdf.set_y(max(bottom, pdf.get_y()) + 6)

    columns = (width * 0.55, width * 0.1, width * 0.175, width * 0.175)
    pdf.set_font(FONT, "B", 10)
    for label, w, align in zip(("Description", "Qty", "Unit (net)", "Total (net)"), columns,
                               ("L", "R", "R", "R"), strict=True):  # fmt: skip
        pdf.cell(w, 8, label, border="B", align=align)
    pdf.ln()
    pdf.set_font(FONT, size=10)
    for item in items:
        values = (
            item.description, str(item.quantity),
            _money(item.unit_price_cents, invoice.currency),
            _money(item.total_cents, invoice.currency),
        )  # fmt: skip
        y = pdf.get_y()
        lines = cast(
            "list[str]", pdf.multi_cell(columns[0], 7, values[0], dry_run=True, output="LINES")
        )
        pdf.multi_cell(columns[0], 7, values[0], new_x="RIGHT", new_y="TOP")
        for value, w in zip(values[1:], columns[1:], strict=True):
            pdf.cell(w, 7, value, align="R")
        pdf.set_y(y + 7 * max(len(lines), 1))
    pdf.ln(4)

    for label, cents, bold in (
        ("Subtotal", invoice.subtotal_cents, False),
        (_rate(invoice.tax_rate), invoice.tax_cents, False),
        ("Total", invoice.total_cents, True),
    ):
        pdf.set_font(FONT, "B" if bold else "", 11 if bold else 10)
        pdf.cell(width - columns[3], 7, label, align="R")
        pdf.cell(columns[3], 7, _money(cents, invoice.currency), align="R", new_x="LMARGIN",
                 new_y="NEXT")  # fmt: skip
    if invoice.kind == "credit_note":
        pdf.ln(4)
        pdf.set_font(FONT, "I", 9)
        pdf.multi_cell(width, 5, "This credit note reduces an earlier invoice; see its lines.")
    return bytes(pdf.output())


def _party(
    pdf: FPDF, heading: str, lines: list[str], width: float, *, x: float | None = None
) -> None:
    pdf.set_font(FONT, "B", 10)
    pdf.cell(width, 6, heading, new_x="LEFT", new_y="NEXT")
    pdf.set_font(FONT, size=10)
    for line in (line for line in lines if line):
        for part in line.splitlines():
            if x is not None:
                pdf.set_x(x)
            pdf.cell(width, 5, part, new_x="LEFT", new_y="NEXT")
            if x is not None:
                pdf.set_x(x)
