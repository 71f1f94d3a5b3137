"""The fast paths of model parsing keep its behaviour (benchmarks/parsing.py measures them).

`from_dict` passes field values positionally and pops declared keys from a copy of the input;
`_convert.uuid` builds canonical UUIDs without UUID.__init__; the models package imports each
model on first use. Each test here would fail if one of those shortcuts changed a result.
"""

from __future__ import annotations

import copy
import pickle
import subprocess
import sys
import textwrap
from typing import Any
from uuid import UUID

import attrs
import pytest

from thredfi_async import _convert, models
from thredfi_async._generated import models as _generated_models


def model_classes() -> list[Any]:
    found = []
    for name in _generated_models.__all__:
        cls = getattr(models, name)
        if attrs.has(cls) and hasattr(cls, "from_dict"):
            found.append(cls)
    return found


def fields_of(cls: Any) -> tuple[tuple[str, str], ...]:
    fields: tuple[tuple[str, str], ...] = sys.modules[cls.__module__]._FIELDS
    return fields


@pytest.mark.parametrize("cls", model_classes(), ids=lambda cls: cls.__name__)
def test_every_json_key_lands_in_its_own_attribute(cls: Any) -> None:
    # A value no converter can type stays raw, so each attribute must hold exactly the value
    # sent under its own key: a positional argument out of place would show here.
    fields = fields_of(cls)
    assert [f.name for f in attrs.fields(cls) if f.init] == [attr for attr, _ in fields]
    sent = {key: f"raw value {index}" for index, (_, key) in enumerate(fields)}
    parsed = cls.from_dict(sent)
    assert {attr: getattr(parsed, attr) for attr, _ in fields} == {
        attr: sent[key] for attr, key in fields
    }
    assert parsed.additional_properties == {}


def test_undeclared_keys_are_kept_in_order_and_the_input_is_not_changed() -> None:
    sent = {
        "zeta": 1,
        "id": "2c4a3698-aa2c-41af-aa10-7b75677f6cbd",
        "surcharges": [{"id": "x"}],
        "currency": "GBP",
        "alpha": None,
    }
    before = copy.deepcopy(sent)
    invoice = models.Invoice.from_dict(sent)
    assert list(invoice.additional_properties.items()) == [
        ("zeta", 1),
        ("surcharges", [{"id": "x"}]),
        ("alpha", None),
    ]
    assert invoice.id == UUID("2c4a3698-aa2c-41af-aa10-7b75677f6cbd")
    assert invoice.currency == "GBP"
    assert sent == before


def test_a_model_without_undeclared_keys_has_its_own_empty_extras() -> None:
    first = models.PageInfo.from_dict({"total_count": 1})
    second = models.PageInfo.from_dict({"total_count": 2})
    first.additional_properties["x"] = 1
    assert second.additional_properties == {}


@pytest.mark.parametrize(
    "text",
    [
        "2c4a3698-aa2c-41af-aa10-7b75677f6cbd",
        "2C4A3698-AA2C-41AF-AA10-7B75677F6CBD",
        "2c4a3698aa2c41afaa107b75677f6cbd",
        "{2c4a3698-aa2c-41af-aa10-7b75677f6cbd}",
        "urn:uuid:2c4a3698-aa2c-41af-aa10-7b75677f6cbd",
        "2c4a3698-aa2c-41af-aa10-7b75677f6cbg",  # not hex
        "2c4a3698-aa2c-41af-aa10-7b75677f6c_d",  # int() accepts "_", and so does UUID()
        "2c4a3698-aa2c-41af-aa10-7b75677f6c\u0661d",  # a non-ASCII digit, likewise
        "2c4a3698-aa2c-41af-aa10-7b75677f6cb",  # too short
        "cus_123",
        "",
    ],
)
def test_uuid_conversion_agrees_with_the_uuid_constructor(text: str) -> None:
    try:
        expected: Any = UUID(text)
    except ValueError:
        expected = text
    converted = _convert.uuid(text)
    assert type(converted) is type(expected)
    assert converted == expected
    if isinstance(expected, UUID):
        assert hash(converted) == hash(expected)
        assert str(converted) == str(expected)
        assert converted.is_safe == expected.is_safe
        assert pickle.loads(pickle.dumps(converted)) == expected
        assert copy.deepcopy(converted) == expected


def test_models_are_imported_on_first_use_and_all_listed() -> None:
    script = textwrap.dedent(
        """
        import sys
        import thredfi_async
        from thredfi_async import models

        loaded = [m for m in sys.modules if m.startswith("thredfi_async._generated.models.")]
        assert len(loaded) < 5, loaded
        assert "thredfi_async._generated.models.invoice" not in sys.modules
        assert models.Invoice.__name__ == "Invoice"
        assert "thredfi_async._generated.models.invoice" in sys.modules
        assert set(models.__all__) <= set(dir(models))
        try:
            models.NoSuchModel
        except AttributeError:
            pass
        else:
            raise AssertionError("an unknown name must raise AttributeError")
        namespace = {}
        exec("from thredfi_async._generated.models import *", namespace)
        assert set(models.__all__) <= set(namespace)
        """
    )
    subprocess.run([sys.executable, "-c", script], check=True)
