"""Dataset identifiers beyond CMIP6: a CMIP5 file's ESGF dataset id, checked against the record
ESGF publishes for that dataset (a real record of esg-search's resources, in
../shared/fixtures/catalog). The file is a real NetCDF file written here with the global
attributes CMOR 2 gives a CMIP5 file, at its place in the CMIP5 DRS."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
from conftest import SHARED

from espri_vre.provenance.identifiers import identifiers_from_file

RECORD = (
    SHARED / "fixtures/catalog/esgf_solr_record_cmip5_dataset_publish_doc__esg-search_resources.xml"
)


def esgf_record() -> dict[str, str]:
    if not RECORD.is_file():
        pytest.skip(f"the recorded ESGF record is absent: {RECORD}")
    fields = ET.parse(RECORD).getroot().iter("field")
    return {f.attrib["name"]: (f.text or "").strip() for f in fields}


def test_a_cmip5_file_gets_the_dataset_and_instance_id_esgf_publishes(tmp_path: Path):
    import netCDF4

    record = esgf_record()
    institute, model, experiment, frequency, realm, table, ensemble = record["drs_id"].split(".")[
        2:
    ]
    version = "v" + record["version"]
    folder = tmp_path / "cmip5" / "output1" / institute / model / experiment / frequency / realm
    folder = folder / table / ensemble / version / "huss"
    folder.mkdir(parents=True)
    path = folder / f"huss_{table}_{model}_{experiment}_{ensemble}_20900101-20991231.nc"
    with netCDF4.Dataset(path, "w") as ds:
        ds.setncatts(
            {
                "project_id": "CMIP5",
                "product": "output",  # CMOR writes 'output': output1 is in the DRS path only
                "institute_id": institute,
                "model_id": model,
                "experiment_id": experiment,
                "frequency": frequency,
                "modeling_realm": realm,
                "table_id": f"Table {table} (10 Jun 2010) 0e2e0f3b5a9f4e8b9c6d1a2b3c4d5e6f",
                "realization": np.int32(1),
                "initialization_method": np.int32(1),
                "physics_version": np.int32(1),
                "tracking_id": "5a9d3c1e-0b7f-4e4a-9d57-0c3e2f1a7b6d",
            }
        )
    found = identifiers_from_file(path)
    assert found.dataset_id == record["master_id"]
    assert found.instance_id == record["instance_id"]
    assert found.version == version and found.tracking_id.startswith("5a9d3c1e")
    assert found.pid is None  # a CMIP5 tracking_id is a bare UUID, not a Handle


def test_a_cmip5_file_outside_the_drs_gets_no_guessed_dataset_id(tmp_path: Path):
    import netCDF4

    path = tmp_path / "huss.nc"
    with netCDF4.Dataset(path, "w") as ds:
        ds.setncatts(
            {
                "project_id": "CMIP5",
                "product": "output",
                "institute_id": "INM",
                "model_id": "inmcm4",
                "experiment_id": "1pctCO2",
                "frequency": "day",
                "modeling_realm": "atmos",
                "table_id": "Table day (10 Jun 2010)",
                "realization": 1,
                "initialization_method": 1,
                "physics_version": 1,
                "tracking_id": "5a9d3c1e-0b7f-4e4a-9d57-0c3e2f1a7b6d",
            }
        )
    found = identifiers_from_file(path)
    # output1 or output2 is ESGF's choice, written in the DRS path only: never guessed
    assert found.dataset_id is None and found.instance_id is None
    assert found.tracking_id == "5a9d3c1e-0b7f-4e4a-9d57-0c3e2f1a7b6d"


# A dataset ESGF publishes (DKRZ's index): its id, and the attributes the CORDEX archive
# specifications give each of its files.
CORDEX_ID = "cordex.output.EUR-11.GERICS.ECMWF-ERAINT.evaluation.r1i1p1.REMO2015.v1.day.tasmax"
CORDEX_ATTRIBUTES = {
    "project_id": "CORDEX",
    "product": "output",
    "CORDEX_domain": "EUR-11",
    "institute_id": "GERICS",
    "driving_model_id": "ECMWF-ERAINT",
    "experiment_id": "evaluation",
    "driving_model_ensemble_member": "r1i1p1",
    "model_id": "GERICS-REMO2015",
    "rcm_version_id": "v1",
    "frequency": "day",
    "tracking_id": "hdl:21.14103/0b5a2f0e-7a46-4c5e-9f0a-2d1c3e4b5a6f",
}


def cordex_file(folder: Path, attributes: dict[str, str]) -> Path:
    import netCDF4

    folder.mkdir(parents=True)
    name = "tasmax_EUR-11_ECMWF-ERAINT_evaluation_r1i1p1_GERICS-REMO2015_v1_day_19790102-19801231"
    path = folder / f"{name}.nc"
    with netCDF4.Dataset(path, "w") as ds:
        ds.setncatts(attributes)
    return path


def test_a_cordex_file_gets_the_dataset_and_instance_id_esgf_publishes(tmp_path: Path):
    drs = tmp_path / "CORDEX/output/EUR-11/GERICS/ECMWF-ERAINT/evaluation/r1i1p1"
    path = cordex_file(drs / "GERICS-REMO2015/v1/day/tasmax/v20180813", CORDEX_ATTRIBUTES)
    found = identifiers_from_file(path)
    assert found.dataset_id == CORDEX_ID
    assert found.instance_id == f"{CORDEX_ID}.v20180813"
    assert found.pid == CORDEX_ATTRIBUTES["tracking_id"]


def test_a_cordex_file_lacking_an_attribute_gets_no_guessed_dataset_id(tmp_path: Path):
    partial = {k: v for k, v in CORDEX_ATTRIBUTES.items() if k != "rcm_version_id"}
    found = identifiers_from_file(cordex_file(tmp_path / "v20180813", partial))
    assert found.dataset_id is None and found.instance_id is None
    assert found.tracking_id == CORDEX_ATTRIBUTES["tracking_id"]
