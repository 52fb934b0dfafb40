"""VAT on prices that include it. Rounding rule: the net amount is the gross divided by
(1 + rate), rounded half up to the cent (half away from zero for credits); the VAT is the
gross minus the net, so net + VAT is always exactly what was paid."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal


@dataclass(frozen=True)
class VatSplit:
    net_cents: int
    tax_cents: int

    @property
    def gross_cents(self) -> int:
        return self.net_cents + self.tax_cents


def net_of(gross_cents: int, rate: Decimal) -> int:
    """The net part of a gross amount (negative amounts are split symmetrically)."""
    if gross_cents < 0:
        return -net_of(-gross_cents, rate)
    return int((Decimal(gross_cents) / (1 + rate)).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def split_gross(gross_cents: int, rate: Decimal) -> VatSplit:
    net = net_of(gross_cents, rate)
    return VatSplit(net_cents=net, tax_cents=gross_cents - net)
