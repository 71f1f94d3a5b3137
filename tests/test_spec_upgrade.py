"""An additive spec change (new fields, new enum values, new operations, a new tag) needs
nothing but `make generate`: no edit of codegen/ or of the overlay. `_generated/` is a pure
function of openapi.yaml and codegen/, and everything written by hand lives outside it, so a new
published spec must be the whole upgrade."""

from __future__ import annotations

import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent

NEW_OPERATION = {
    "get": {
        "tags": ["Tax Rates"],
        "summary": "List tax rates",
        "operationId": "list_tax_rates",
        "security": [{"BearerScoped": []}],
        "parameters": [
            {"in": "path", "name": "business_id", "required": True, "schema": {"type": "string"}},
            {"in": "query", "name": "country", "required": True, "schema": {"type": "string"}},
        ],
        "responses": {
            "200": {
                "description": "The rates.",
                "content": {
                    "application/json": {
                        "schema": {
                            "type": "object",
                            "properties": {
                                "rate": {"type": "number"},
                                "kind": {"type": "string", "enum": ["standard", "reduced"]},
                            },
                        }
                    }
                },
            }
        },
    }
}

CHECK = """
import asyncio, httpx
from decimal import Decimal
from thredfi_async import AsyncThredfi

def answer(request):
    if request.url.path.endswith("/oauth2/token/"):
        return httpx.Response(200, json={"access_token": "t", "expires_in": 3600})
    if request.url.path.endswith("/tax-rates/"):
        assert request.url.params["country"] == "GB"
        return httpx.Response(200, json={"rate": 20.0, "kind": "zero"})
    return httpx.Response(200, json={"id": "inv-1", "status": "ON_HOLD", "tax_total_cents": 123})

async def main():
    client = httpx.AsyncClient(transport=httpx.MockTransport(answer))
    async with AsyncThredfi("p", "k", base_url="https://x.test", http_client=client) as thredfi:
        books = thredfi.business("b-1")
        rates = await books.tax_rates.list_tax_rates(country="GB")
        assert rates.rate == Decimal("20.0") and rates.kind == "zero", rates
        invoice = await books.invoices.get("inv-1")
        assert invoice.tax_total_cents == 123 and invoice.status == "ON_HOLD", invoice
    print("ok")

asyncio.run(main())
"""


def test_a_new_operation_tag_field_and_enum_value_need_only_make_generate(tmp_path: Path) -> None:
    ignore = shutil.ignore_patterns("__pycache__", ".ruff_cache")
    shutil.copytree(ROOT / "codegen", tmp_path / "codegen", ignore=ignore)
    shutil.copytree(ROOT / "thredfi_async", tmp_path / "thredfi_async", ignore=ignore)
    spec = yaml.safe_load((ROOT / "openapi.yaml").read_text())
    spec["paths"]["/v1/platform/businesses/{business_id}/tax-rates/"] = NEW_OPERATION
    spec["components"]["schemas"]["Invoice"]["properties"]["tax_total_cents"] = {"type": "integer"}
    (tmp_path / "openapi.yaml").write_text(yaml.safe_dump(spec, sort_keys=False))

    generated = subprocess.run(
        [sys.executable, str(tmp_path / "codegen" / "generate.py")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert generated.returncode == 0, generated.stderr
    table = (tmp_path / "docs" / "operations.md").read_text()
    assert "| `list_tax_rates` | GET |" in table
    assert "`thredfi.tax_rates.list_tax_rates()`" in table

    checked = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(CHECK)],
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
        env={"PYTHONPATH": str(tmp_path), "PATH": "/usr/bin:/bin"},
    )
    assert checked.returncode == 0, checked.stderr
    assert checked.stdout.strip() == "ok"
