"""Dataset identifiers from a file's global attributes: what a reviewer needs to find the very
data an analysis read, and to learn whether it was since retracted or superseded.

CMIP6 files carry a `tracking_id` (a Handle PID of the file, 'hdl:21.14100/<uuid>') and a
`further_info_url`; the ESGF dataset id is built from the DRS attributes, and its version
('v20190311') comes from the DRS directory the file sits in, as no attribute holds it.

CMIP5 files carry a `tracking_id` (a bare UUID) and the attributes of CMOR 2; their ESGF dataset
id follows the template ESGF publishes CMIP5 with ('cmip5.<product>.<institute>.<model>.
<experiment>.<frequency>.<realm>.<cmor table>.<ensemble>'), whose product (output1 or output2)
only the DRS path knows: the file says 'output'.

CORDEX (CMIP5-driven) files carry the attributes of the CORDEX archive specifications; their
ESGF dataset id is 'cordex.<product>.<domain>.<institute>.<driving model>.<experiment>.
<ensemble>.<RCM name>.<RCM version>.<frequency>.<variable>', where the RCM name is the
file's `model_id` without its institute prefix (SMHI-RCA4 is RCA4 there) and the variable,
which no global attribute holds, is the first part of the file's name (tas_EUR-11_...).

CORDEX-CMIP6 files (archive specifications v2, DOI 10.5281/zenodo.15047096) carry every DRS
element as a global attribute, `project_id` 'CORDEX-CMIP6' (v1 of the specifications said
'CORDEX' with `mip_era` 'CMIP6'); their dataset id is the ESGF directory structure joined by dots,
'CORDEX-CMIP6.<activity>.<domain>.<institution>.<driving source>.<driving experiment>.
<driving variant>.<source>.<version_realization>.<frequency>.<variable>', the version
('v20240920') coming, as for CMIP6, from the DRS directory."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import Any

FACETS = (
    "mip_era",
    "project_id",
    "activity_id",
    "institution_id",
    "source_id",
    "experiment_id",
    "sub_experiment_id",
    "variant_label",
    "table_id",
    "frequency",
    "variable_id",
    "grid_label",
    "domain_id",
    "driving_source_id",
    "driving_experiment_id",
    "driving_variant_label",
    "version_realization",
)
"""Attributes kept as facets: the DRS of CMIP6 and CORDEX-CMIP6."""

_VERSION = re.compile(r"^v\d{8}$")
_CMIP5_PRODUCTS = ("output1", "output2")
_DOI = re.compile(r"(10\.\d{4,9}/\S+)")


@dataclass(frozen=True)
class DatasetIdentifiers:
    tracking_id: str | None = None
    dataset_id: str | None = None
    instance_id: str | None = None
    version: str | None = None
    pid: str | None = None
    further_info_url: str | None = None
    doi: str | None = None
    citation: str | None = None
    facets: dict[str, str] = field(default_factory=dict)

    def __bool__(self) -> bool:
        found = (self.tracking_id, self.dataset_id, self.pid, self.doi, self.further_info_url)
        return any(found)


def _text(value: Any) -> str | None:
    """An attribute as text: bytes decoded, numpy scalars and one-element arrays unwrapped."""
    if value is None:
        return None
    if hasattr(value, "tolist"):
        value = value.tolist()
    if isinstance(value, list) and len(value) == 1:
        value = value[0]
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    text = str(value).strip()
    return text or None


def _version_from_path(path: str | None) -> str | None:
    """The last 'vYYYYMMDD' directory of a DRS path."""
    if not path:
        return None
    for part in reversed(PurePath(path).parts[:-1]):
        if _VERSION.match(part):
            return part
    return None


def _activity(attrs: Mapping[str, str], path: str | None) -> str | None:
    """A multi-activity experiment ('ScenarioMIP AerChemMIP') is filed under one of them."""
    activities = (attrs.get("activity_id") or "").split()
    if not activities:
        return None
    if path:
        parts = set(PurePath(path).parts)
        for activity in activities:
            if activity in parts:
                return activity
    return activities[0]


def _cmip6_dataset_id(attrs: Mapping[str, str], path: str | None) -> str | None:
    if attrs.get("mip_era") != "CMIP6":
        return None
    variant = attrs.get("variant_label")
    sub_experiment = attrs.get("sub_experiment_id")
    member = f"{sub_experiment}-{variant}" if sub_experiment not in (None, "none") else variant
    parts = [
        "CMIP6",
        _activity(attrs, path),
        attrs.get("institution_id"),
        attrs.get("source_id"),
        attrs.get("experiment_id"),
        member,
        attrs.get("table_id"),
        attrs.get("variable_id"),
        attrs.get("grid_label"),
    ]
    if any(p is None for p in parts):
        return None
    return ".".join(p for p in parts if p is not None)


_CORDEX_CMIP6_DRS = (
    "activity_id",
    "domain_id",
    "institution_id",
    "driving_source_id",
    "driving_experiment_id",
    "driving_variant_label",
    "source_id",
    "version_realization",
    "frequency",
    "variable_id",
)


def _cordex_cmip6_dataset_id(attrs: Mapping[str, str]) -> str | None:
    """The ESGF dataset id of a CORDEX-CMIP6 file, when it carries every DRS element."""
    project = attrs.get("project_id") or ""
    if project != "CORDEX-CMIP6" and not (project == "CORDEX" and attrs.get("mip_era") == "CMIP6"):
        return None
    parts = [attrs.get(name) for name in _CORDEX_CMIP6_DRS]
    return ".".join(["CORDEX-CMIP6", *parts]) if all(parts) else None  # type: ignore[list-item]


def _cmip5_dataset_id(attrs: Mapping[str, str], path: str | None) -> str | None:
    """The ESGF dataset id of a CMIP5 file, when its DRS path names the product."""
    if attrs.get("project_id") != "CMIP5":
        return None
    product = attrs.get("product")
    if product not in _CMIP5_PRODUCTS:
        parts = PurePath(path).parts if path else ()
        product = next((p for p in parts if p in _CMIP5_PRODUCTS), None)
    table = (attrs.get("table_id") or "").split()
    realm = (attrs.get("modeling_realm") or "").split()
    member = [attrs.get(k) for k in ("realization", "initialization_method", "physics_version")]
    parts = [
        "cmip5",
        product,
        attrs.get("institute_id"),
        attrs.get("model_id"),
        attrs.get("experiment_id"),
        attrs.get("frequency"),
        realm[0] if realm else None,
        # 'Table day (10 Jun 2010) 2e6...': the table's name is the second word
        table[1] if len(table) > 1 and table[0] == "Table" else None,
        "r{}i{}p{}".format(*member) if all(member) else None,
    ]
    return ".".join(parts) if all(parts) else None  # type: ignore[arg-type]


def _cordex_dataset_id(attrs: Mapping[str, str], path: str | None) -> str | None:
    """The ESGF dataset id of a CORDEX file, when its name gives the variable."""
    if (attrs.get("project_id") or "").upper() != "CORDEX":
        return None
    domain, institute = attrs.get("CORDEX_domain"), attrs.get("institute_id")
    name = PurePath(path).name.split("_") if path else []
    # tas_EUR-11_<driving model>_...: the name's second part is the domain
    variable = name[0] if len(name) > 2 and name[1] == domain else None
    model = attrs.get("model_id") or ""
    rcm = model.removeprefix(f"{institute}-") if institute else model
    parts = [
        "cordex",
        attrs.get("product"),
        domain,
        institute,
        attrs.get("driving_model_id"),
        attrs.get("experiment_id"),
        attrs.get("driving_model_ensemble_member"),
        rcm or None,
        attrs.get("rcm_version_id"),
        attrs.get("frequency"),
        variable,
    ]
    return ".".join(parts) if all(parts) else None  # type: ignore[arg-type]


def _bare_doi(value: str | None) -> str | None:
    if value is None:
        return None
    found = _DOI.search(value)
    return found.group(1) if found else None


def identifiers_from_attributes(
    attributes: Mapping[str, Any], path: str | os.PathLike[str] | None = None
) -> DatasetIdentifiers:
    """The identifiers in a dataset's global attributes; `path` (a DRS path) gives the version."""
    attrs = {str(k): t for k, v in attributes.items() if (t := _text(v)) is not None}
    where = os.fspath(path) if path is not None else None
    tracking_id = attrs.get("tracking_id")
    dataset_id = (
        attrs.get("dataset_id")
        # before CMIP6's: a CORDEX-CMIP6 file says mip_era CMIP6 too
        or _cordex_cmip6_dataset_id(attrs)
        or _cmip6_dataset_id(attrs, where)
        or _cmip5_dataset_id(attrs, where)
        or _cordex_dataset_id(attrs, where)
    )
    version = attrs.get("version") if _VERSION.match(attrs.get("version", "")) else None
    version = version or _version_from_path(where)
    instance_id = attrs.get("instance_id")
    if instance_id is None and dataset_id and version:
        instance_id = f"{dataset_id}.{version}"
    pid = attrs.get("pid")
    if pid is None and tracking_id and tracking_id.startswith("hdl:"):
        pid = tracking_id
    doi = next(
        (_bare_doi(attrs[k]) for k in ("doi", "DOI", "dataset_doi", "citation_doi") if k in attrs),
        None,
    )
    return DatasetIdentifiers(
        tracking_id=tracking_id,
        dataset_id=dataset_id,
        instance_id=instance_id,
        version=version,
        pid=pid,
        further_info_url=attrs.get("further_info_url"),
        doi=doi,
        citation=attrs.get("citation"),
        facets={k: attrs[k] for k in FACETS if k in attrs},
    )


def global_attributes(obj: Any) -> dict[str, Any]:
    """Global attributes of an xarray Dataset/DataArray (`.attrs`), a netCDF4 Dataset
    (`.ncattrs()`) or an h5py File (`.attrs`)."""
    if hasattr(obj, "ncattrs"):
        return {name: obj.getncattr(name) for name in obj.ncattrs()}
    attrs = getattr(obj, "attrs", None)
    if attrs is None:
        return {}
    return dict(attrs.items())


def identifiers_from_dataset(
    obj: Any, path: str | os.PathLike[str] | None = None
) -> DatasetIdentifiers:
    """The identifiers of an opened dataset (xarray, netCDF4 or h5py)."""
    return identifiers_from_attributes(global_attributes(obj), path)


def identifiers_from_file(path: str | os.PathLike[str]) -> DatasetIdentifiers:
    """Reads only the header of a NetCDF (3 or 4) file; OSError when it is not one."""
    import netCDF4

    with netCDF4.Dataset(os.fspath(path), "r") as ds:
        return identifiers_from_dataset(ds, path)
