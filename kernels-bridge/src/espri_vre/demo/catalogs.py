"""The demo's catalogues and configuration documents: pure functions that return JSON-ready
dicts and CSV text, given where the files are."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

STAC_VERSION = "1.0.0"
COLLECTION_ID = "espri-vre-demo"
CMIP6_PATH_PREFIX = "./tests/sample_data/cmip/"
"""How the intake-esm sample tables name the CMIP6 sample's root (../shared/data/SOURCES.md)."""

ESM_COLUMNS = (
    "activity_id",
    "institution_id",
    "source_id",
    "experiment_id",
    "member_id",
    "table_id",
    "variable_id",
    "grid_label",
    "time_range",
    "storage",
    "format",
    "path",
)
ESM_GROUPBY = (
    "activity_id",
    "institution_id",
    "source_id",
    "experiment_id",
    "table_id",
    "grid_label",
    "storage",
)
"""`storage` keeps the NetCDF and the two Zarr copies of one field in separate datasets."""


@dataclass(frozen=True)
class EsmAsset:
    variable_id: str
    table_id: str
    grid_label: str
    time_range: str
    storage: str
    """netcdf4, zarr-v2 or zarr-v3"""
    path: str

    @property
    def format(self) -> str:
        return "netcdf" if self.storage == "netcdf4" else "zarr"


def esm_table(assets: Sequence[EsmAsset]) -> str:
    """The CSV table of the demo's intake-esm catalogue, CMIP6-like columns."""
    rows = [
        {
            "activity_id": "DEMO",
            "institution_id": "ESPRI-VRE",
            "source_id": "SYNTH-1",
            "experiment_id": "demo",
            "member_id": "r1i1p1f1",
            "table_id": a.table_id,
            "variable_id": a.variable_id,
            "grid_label": a.grid_label,
            "time_range": a.time_range,
            "storage": a.storage,
            "format": a.format,
            "path": a.path,
        }
        for a in assets
    ]
    return _csv(ESM_COLUMNS, rows)


def esm_descriptor(catalog_file: str) -> dict[str, Any]:
    """The ESM collection (esmcat 0.1.0) describing `esm_table`'s rows."""
    return {
        "esmcat_version": "0.1.0",
        "id": "espri-vre-demo",
        "description": "espri-vre demo data (synthetic): NetCDF4 and Zarr v2/v3 gridded fields",
        "catalog_file": catalog_file,
        "attributes": [{"column_name": c, "vocabulary": ""} for c in ESM_COLUMNS[:-2]],
        "assets": {"column_name": "path", "format_column_name": "format"},
        "aggregation_control": {
            "variable_column_name": "variable_id",
            "groupby_attrs": list(ESM_GROUPBY),
            "aggregations": [
                {"type": "union", "attribute_name": "variable_id"},
                {
                    "type": "join_new",
                    "attribute_name": "member_id",
                    "options": {"coords": "minimal", "compat": "override"},
                },
            ],
        },
    }


def rewrite_esm_paths(
    descriptor: Mapping[str, Any],
    table: str,
    prefix: str,
    replacement: str,
    *,
    catalog_id: str,
    catalog_file: str,
) -> tuple[dict[str, Any], str, int]:
    """A copy of an intake-esm catalogue whose asset paths starting with `prefix` start with
    `replacement` instead. Returns (descriptor, table, number of rewritten rows)."""
    column = descriptor["assets"]["column_name"]
    reader = csv.DictReader(io.StringIO(table))
    columns = list(reader.fieldnames or [])
    if column not in columns:
        raise ValueError(f"the table has no {column!r} column")
    rows, rewritten = [], 0
    for row in reader:
        if row[column].startswith(prefix):
            row[column] = replacement + row[column][len(prefix) :]
            rewritten += 1
        rows.append(row)
    out = dict(descriptor)
    out["id"] = catalog_id
    out["catalog_file"] = catalog_file
    out["description"] = (
        f"{descriptor.get('description', '').rstrip('.')} (paths mapped to {replacement})"
    )
    return out, _csv(columns, rows), rewritten


@dataclass(frozen=True)
class StacAsset:
    key: str
    href: str
    """Relative to the item's JSON file."""
    media_type: str
    title: str
    roles: tuple[str, ...] = ("data",)


@dataclass(frozen=True)
class StacItem:
    id: str
    title: str
    description: str
    bbox: tuple[float, float, float, float]
    geometry: dict[str, Any]
    start: str
    end: str
    assets: tuple[StacAsset, ...]
    properties: Mapping[str, Any] = field(default_factory=dict)


def stac_documents(items: Sequence[StacItem]) -> dict[str, dict[str, Any]]:
    """A self-contained static STAC catalogue (relative links, no self links): one catalogue,
    one collection, one item per dataset. Keys are paths relative to the catalogue's folder."""
    collection_dir = COLLECTION_ID
    docs: dict[str, dict[str, Any]] = {
        "catalog.json": {
            "type": "Catalog",
            "stac_version": STAC_VERSION,
            "id": "espri-vre-demo-catalog",
            "title": "espri-vre demo catalogue",
            "description": "Static STAC catalogue of the espri-vre demo data (synthetic).",
            "links": [
                _link("root", "./catalog.json", "application/json"),
                _link(
                    "child",
                    f"./{collection_dir}/collection.json",
                    "application/json",
                    "espri-vre demo data",
                ),
            ],
        }
    }
    west = min(i.bbox[0] for i in items)
    south = min(i.bbox[1] for i in items)
    east = max(i.bbox[2] for i in items)
    north = max(i.bbox[3] for i in items)
    docs[f"{collection_dir}/collection.json"] = {
        "type": "Collection",
        "stac_version": STAC_VERSION,
        "id": COLLECTION_ID,
        "title": "espri-vre demo data",
        "description": (
            "Synthetic climate data made by the espri-vre demo builder: gridded monthly fields "
            "(NetCDF4, Zarr v2, Zarr v3), a curvilinear ocean grid, station time series and a "
            "balloon trajectory."
        ),
        "license": "CC-BY-4.0",
        "keywords": ["demo", "climate", "synthetic"],
        "providers": [{"name": "espri-vre", "roles": ["producer", "host"]}],
        "extent": {
            "spatial": {"bbox": [[west, south, east, north]]},
            "temporal": {"interval": [[min(i.start for i in items), max(i.end for i in items)]]},
        },
        "links": [
            _link("root", "../catalog.json", "application/json"),
            _link("parent", "../catalog.json", "application/json"),
            *(
                _link("item", f"./{i.id}/{i.id}.json", "application/geo+json", i.title)
                for i in items
            ),
        ],
    }
    for item in items:
        docs[f"{collection_dir}/{item.id}/{item.id}.json"] = {
            "type": "Feature",
            "stac_version": STAC_VERSION,
            "stac_extensions": [],
            "id": item.id,
            "collection": COLLECTION_ID,
            "bbox": list(item.bbox),
            "geometry": item.geometry,
            "properties": {
                "title": item.title,
                "description": item.description,
                "datetime": None,
                "start_datetime": item.start,
                "end_datetime": item.end,
                **item.properties,
            },
            "links": [
                _link("root", "../../catalog.json", "application/json"),
                _link("parent", "../collection.json", "application/json"),
                _link("collection", "../collection.json", "application/json"),
            ],
            "assets": {
                a.key: {
                    "href": a.href,
                    "type": a.media_type,
                    "title": a.title,
                    "roles": list(a.roles),
                }
                for a in item.assets
            },
        }
    return docs


def bbox_polygon(bbox: Sequence[float]) -> dict[str, Any]:
    west, south, east, north = bbox
    ring = [[west, south], [east, south], [east, north], [west, north], [west, south]]
    return {"type": "Polygon", "coordinates": [ring]}


def server_config(
    root_dir: str,
    catalogs: Sequence[Mapping[str, Any]],
    data_roots: Sequence[Mapping[str, Any]],
    clusters: Sequence[Mapping[str, Any]],
) -> dict[str, Any]:
    """The jupyter_server_config.json that points JupyterLab at the demo."""
    return {
        "ServerApp": {"root_dir": root_dir, "jpserver_extensions": {"espri_vre": True}},
        "EspriVreApp": {
            "catalogs": [dict(c) for c in catalogs],
            "data_roots": [dict(d) for d in data_roots],
            "clusters": [dict(c) for c in clusters],
        },
    }


def _link(rel: str, href: str, media_type: str, title: str | None = None) -> dict[str, str]:
    link = {"rel": rel, "href": href, "type": media_type}
    if title:
        link["title"] = title
    return link


def _csv(columns: Sequence[str], rows: Sequence[Mapping[str, Any]]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(columns), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


STAC_API_CATALOG = "demo-stac-api"


def with_services(
    config: Mapping[str, Any],
    services: Mapping[str, str | None],
    previous: Mapping[str, str | None],
) -> dict[str, Any]:
    """The server configuration pointing at the demo's local services (`services`: the base
    URLs of "stac_api" and "opendap", None for one not running): the STAC API as a catalogue,
    both hosts allow-listed (the OPeNDAP server is no catalogue: the STAC API's items link
    to it). What `previous` (the last run's services) added is taken out first, so that runs on
    other ports do not pile up."""
    app = dict(config.get("EspriVreApp", {}))
    stale = {_host(url) for url in previous.values() if url}
    entries = [c for c in app.get("catalogs", []) if c.get("id") != STAC_API_CATALOG]
    hosts = [h for h in app.get("allowed_hosts", []) if h not in stale]
    if services.get("stac_api"):
        entries.append(
            {
                "id": STAC_API_CATALOG,
                "title": "Demo STAC API (local stac-fastapi)",
                "kind": "stac",
                "url": services["stac_api"],
                "description": "The demo's items searched through a real STAC API, their "
                "NetCDF files also over OPeNDAP",
            }
        )
    hosts += [_host(url) for url in services.values() if url and _host(url) not in hosts]
    app["catalogs"], app["allowed_hosts"] = entries, hosts
    return {**config, "EspriVreApp": app}


def _host(url: str) -> str:
    """'host:port' of a URL, as the allow-list names hosts."""
    return urlsplit(url).netloc
