"""The REST contract: one JSON Schema (api.schema.json) for the payloads of /espri-vre/api, from
which the TypeScript types of @espri-vre/core are generated."""

from __future__ import annotations

import json
from functools import cache
from importlib.resources import files
from typing import Any

from jsonschema import Draft7Validator


@cache
def api_schema() -> dict[str, Any]:
    return json.loads(files(__package__).joinpath("api.schema.json").read_text("utf-8"))


@cache
def validator(definition: str) -> Draft7Validator:
    """A validator for one of the schema's definitions, e.g. 'StatusResponse'."""
    schema = api_schema()
    if definition not in schema["definitions"]:
        raise KeyError(f"api.schema.json has no definition {definition!r}")
    wrapper = {
        "$schema": schema["$schema"],
        "definitions": schema["definitions"],
        "allOf": [{"$ref": f"#/definitions/{definition}"}],
    }
    Draft7Validator.check_schema(wrapper)
    return Draft7Validator(wrapper)


def validation_errors(definition: str, payload: Any) -> list[str]:
    """Every way `payload` breaks the contract, as 'path: message' lines (empty when valid)."""
    return [
        f"{'/'.join(str(p) for p in e.absolute_path) or '(root)'}: {e.message}"
        for e in validator(definition).iter_errors(payload)
    ]
