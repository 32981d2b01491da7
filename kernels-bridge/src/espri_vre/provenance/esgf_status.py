"""Is a dataset the run read still the one to use? The ESGF index (esg-search) says whether a
dataset version was retracted (withdrawn by its modelling centre, usually for an error) or
superseded (a newer version was published and is now `latest`).

One query per dataset, for every version of it (`master_id` is the dataset id without the
version), answered as Solr JSON:

    <index>?type=Dataset&master_id=<dataset_id>&fields=instance_id,version,latest,retracted
           &format=application/solr+json&limit=100&replica=false

No client library does this (esgf-pyclient is unmaintained and needs a logon for searches it
does not need here), so it is one GET with the standard library.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Any

TIMEOUT = 10.0
MAX_BYTES = 4 * 2**20


@dataclass(frozen=True)
class DatasetStatus:
    status: str
    """current, retracted, superseded, or unknown (not in the index, or it failed)."""
    detail: str


def _version(value: Any) -> str:
    text = str(value or "")
    return text[1:] if text.startswith("v") else text


def status_from_docs(instance_id: str, docs: list[dict[str, Any]]) -> DatasetStatus:
    """The status of `instance_id` (`<dataset_id>.v<version>`) among the index's documents of
    every version of its dataset."""
    dataset_id, _, raw_version = instance_id.rpartition(".")
    version = _version(raw_version)
    mine = [d for d in docs if str(d.get("instance_id")) == instance_id]
    if not mine:
        return DatasetStatus("unknown", f"{instance_id} is not in the ESGF index")
    if any(d.get("retracted") in (True, "true", "True") for d in mine):
        return DatasetStatus(
            "retracted", f"{instance_id} was retracted: its data should not be used"
        )
    newer = sorted(
        {
            _version(d.get("version"))
            for d in docs
            if d.get("latest") in (True, "true", "True")
            and d.get("retracted") not in (True, "true", "True")
            and _version(d.get("version")) > version
        }
    )
    if newer:
        return DatasetStatus(
            "superseded", f"{dataset_id} has a newer version v{newer[-1]} (the run read v{version})"
        )
    return DatasetStatus("current", f"{instance_id} is the current version")


def dataset_status(index_url: str, instance_id: str, timeout: float = TIMEOUT) -> DatasetStatus:
    """Asks the ESGF index `index_url` (its esg-search/search URL) about `instance_id`."""
    dataset_id, _, version = instance_id.rpartition(".")
    if not dataset_id or not version.startswith("v"):
        return DatasetStatus("unknown", f"{instance_id!r} is not <dataset_id>.v<version>")
    query = urllib.parse.urlencode(
        {
            "type": "Dataset",
            "master_id": dataset_id,
            "fields": "instance_id,version,latest,retracted",
            "format": "application/solr+json",
            "limit": 100,
            "replica": "false",
        }
    )
    url = f"{index_url}{'&' if '?' in index_url else '?'}{query}"
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 (configured index)
            body = response.read(MAX_BYTES + 1)
    except (urllib.error.URLError, OSError, ValueError) as e:
        reason = getattr(e, "reason", e)
        return DatasetStatus("unknown", f"the ESGF index {index_url} did not answer ({reason})")
    if len(body) > MAX_BYTES:
        return DatasetStatus("unknown", f"the ESGF index answered more than {MAX_BYTES} bytes")
    try:
        docs = json.loads(body)["response"]["docs"]
        if not isinstance(docs, list):
            raise TypeError("docs is not a list")
    except (ValueError, KeyError, TypeError) as e:
        return DatasetStatus("unknown", f"the ESGF index's answer is not Solr JSON ({e})")
    return status_from_docs(instance_id, [d for d in docs if isinstance(d, dict)])
