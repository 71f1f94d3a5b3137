"""Page-number pagination: envelope A by default, envelope B on request; clamped page sizes."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from thredfi_async.testing import FakeThredfi

from ._support import business_client, ok

pytestmark = pytest.mark.anyio


async def test_envelope_a_defaults_and_page_info(fake: FakeThredfi) -> None:
    seeded = fake.seed(customers_per_business=5, invoices_per_customer=9)  # 45 invoices
    bid = seeded.business_ids[0]
    async with business_client(fake, bid) as http:
        url = f"/v1/platform/businesses/{bid}/invoices/"
        first = ok(await http.get(url))
        assert first["count"] == 45
        assert first["page_info"] == {
            "total_count": 45,
            "current_page": 1,
            "total_pages": 3,
            "page_size": 20,
        }
        assert len(first["results"]) == 20
        last = ok(await http.get(url, params={"page": 3}))
        assert len(last["results"]) == 5
        past_the_end = ok(await http.get(url, params={"page": 4}))
        assert past_the_end["results"] == []
        assert past_the_end["count"] == 45
        pages = [ok(await http.get(url, params={"page": n}))["results"] for n in (1, 2, 3)]
        ids = [invoice["id"] for page in pages for invoice in page]
        assert ids == seeded.invoice_ids  # every invoice once, in creation order


async def test_page_size_over_100_is_clamped(fake: FakeThredfi) -> None:
    seeded = fake.seed(customers_per_business=1, invoices_per_customer=150)
    bid = seeded.business_ids[0]
    async with business_client(fake, bid) as http:
        body = ok(
            await http.get(f"/v1/platform/businesses/{bid}/invoices/", params={"page_size": 500})
        )
        assert body["page_info"]["page_size"] == 100
        assert body["page_info"]["total_pages"] == 2
        assert len(body["results"]) == 100


@pytest.mark.parametrize("params", [{"page": 0}, {"page_size": 0}, {"page_size": -5}])
async def test_non_positive_page_or_size_is_rejected(
    fake: FakeThredfi, params: dict[str, int]
) -> None:
    bid = fake.seed().business_ids[0]
    async with business_client(fake, bid) as http:
        response = await http.get(f"/v1/platform/businesses/{bid}/customers/", params=params)
        assert response.status_code == 400
        assert set(response.json()["details"]) == set(params)


async def test_envelope_b_links_pages_with_absolute_urls() -> None:
    fake = FakeThredfi(envelope="next")
    seeded = fake.seed(customers_per_business=3, invoices_per_customer=10)
    bid = seeded.business_ids[0]
    async with business_client(fake, bid) as http:
        url = f"/v1/platform/businesses/{bid}/invoices/"
        first = ok(await http.get(url, params={"page_size": 12, "status": "unpaid"}))
        assert set(first) == {"count", "next", "previous", "results"}
        assert first["count"] == 30
        assert first["previous"] is None
        assert first["next"].startswith(f"http://thredfi.fake{url}?")
        query = parse_qs(urlsplit(first["next"]).query)
        assert query == {"page_size": ["12"], "status": ["unpaid"], "page": ["2"]}
        seen = [i["id"] for i in first["results"]]
        next_url = first["next"]
        while next_url:
            page = ok(await http.get(next_url))
            assert page["previous"] is not None
            seen.extend(i["id"] for i in page["results"])
            next_url = page["next"]
        assert seen == seeded.invoice_ids
        second = ok(await http.get(url, params={"page": 2, "page_size": 12}))
        assert parse_qs(urlsplit(second["previous"]).query) == {"page_size": ["12"]}


async def test_account_entries_add_balances_to_the_envelope(fake: FakeThredfi) -> None:
    seeded = fake.seed(customers_per_business=1, invoices_per_customer=3, unit_price_cents=1000)
    bid = seeded.business_ids[0]
    async with business_client(fake, bid) as http:
        body = ok(
            await http.get(
                f"/v1/platform/businesses/{bid}/general-ledger/chart-of-accounts/1100/entries/",
                params={"page_size": 2},
            )
        )
        assert body["opening_balance_cents"] == 0
        assert body["closing_balance_cents"] == 3000
        assert body["page_info"]["total_count"] == 3
        assert [row["running_balance_cents"] for row in body["results"]] == [1000, 2000]
