"""Businesses, menu configuration and the read-only bank feeds."""

from __future__ import annotations

import pytest

from thredfi_async.testing import FakeThredfi

from ._support import Api, business_client, ok

pytestmark = pytest.mark.anyio


async def test_business_defaults_update_and_list(api: Api) -> None:
    dutch = await api.create_business(country="NL", entity_type="BV", vat_number="NL123456789B01")
    assert (dutch["base_currency"], dutch["entity_type"]) == ("EUR", "bv")
    assert dutch["accounting_method"] == "accrual"
    updated = ok(
        await api.partner(
            "PATCH",
            f"/v1/platform/businesses/{dutch['id']}/",
            json={"legal_name": "Nieuw BV", "accounting_method": "cash"},
        )
    )
    assert "id" not in updated  # UpdateBusiness holds only the update fields
    assert (updated["legal_name"], updated["accounting_method"]) == ("Nieuw BV", "cash")
    british = await api.create_business(tin="1234567890")
    listed = ok(await api.partner("GET", "/v1/platform/businesses/", params={"country": "nl"}))
    assert [b["id"] for b in listed["results"]] == [dutch["id"]]
    everything = ok(await api.partner("GET", "/v1/platform/businesses/"))
    assert {b["id"] for b in everything["results"]} == {dutch["id"], british["id"]}
    rows = {b["id"]: b for b in everything["results"]}
    assert rows[british["id"]]["tax_id"] == "1234567890"  # list rows name tin tax_id
    bad = await api.partner(
        "PATCH", f"/v1/platform/businesses/{british['id']}/", json={"entity_type": "gmbh"}
    )
    assert bad.status_code == 400
    assert "detail" in bad.json()


async def test_new_business_has_a_chart_of_accounts(api: Api) -> None:
    business = await api.create_business()
    chart = await api.get(business["id"], "/general-ledger/chart-of-accounts/", page_size=100)
    types = {a["account_type"] for a in chart["results"]}
    assert types == {"asset", "liability", "equity", "revenue", "expense"}
    names = {a["name"] for a in chart["results"]}
    assert {"Accounts Receivable", "Accounts Payable", "VAT Control", "Retained Earnings"} <= names
    assert all(a["current_balance"] == 0 for a in chart["results"])


async def test_menu_config_updates_partially_and_resets(api: Api) -> None:
    bid = await api.business_id()
    default = await api.get(bid, "/menu-config/")
    assert default["menu"]["reports"] is True
    assert default["menu"]["accounts_payable"] is False
    changed = ok(
        await api.books(
            bid,
            "PUT",
            "/menu-config/",
            json={
                "menu": {"accounts_payable": True},
                "sub_menu_tabs": {"reports.balance_sheet": False},
            },
        )
    )
    assert changed["menu"]["accounts_payable"] is True
    assert changed["menu"]["reports"] is True  # keys not sent are kept
    assert changed["sub_menu_tabs"]["reports.balance_sheet"] is False
    assert (await api.get(bid, "/menu-config/")) == changed
    missing_menu = await api.books(bid, "PUT", "/menu-config/", json={"sub_menu_tabs": {}})
    assert missing_menu.status_code == 400
    assert ok(await api.books(bid, "DELETE", "/menu-config/")) == default


async def test_bank_feeds_are_seeded_and_filterable(fake: FakeThredfi) -> None:
    seeded = fake.seed(bank_accounts_per_business=2, transactions_per_bank_account=20)
    bid = seeded.business_ids[0]
    async with business_client(fake, bid) as http:
        accounts = ok(await http.get(f"/v1/platform/businesses/{bid}/bank-accounts/"))
        assert accounts["count"] == 2
        assert accounts["statistics"]["total_accounts"] == 2
        first = accounts["results"][0]
        assert isinstance(first["balance_cents"], int)
        detail = ok(await http.get(f"/v1/platform/businesses/{bid}/bank-accounts/{first['id']}/"))
        assert detail["mapped_account"] is not None
        credits = ok(
            await http.get(
                f"/v1/platform/businesses/{bid}/bank-transactions/",
                params={"direction": "credit", "page_size": 100},
            )
        )
        assert credits["count"] > 0
        assert all(
            t["direction"] == "credit" and t["signed_amount"] > 0 for t in credits["results"]
        )
        dates = [t["date"] for t in credits["results"]]
        assert dates == sorted(dates, reverse=True)
        read_only = await http.post(f"/v1/platform/businesses/{bid}/bank-accounts/", json={})
        assert read_only.status_code == 405
