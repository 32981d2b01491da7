"""The kernel's messages that the globe's TypeScript tests decode
(extensions/globe/test/fixtures): written by messages.py, checked here to be exactly
what messages.py writes today, so that both halves test the same bytes.
Regenerate with `python kernels-bridge/tests/test_globe_fixtures.py`."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from espri_vre.globe import messages as m

FIXTURES = Path(__file__).parents[2] / "extensions" / "globe" / "test" / "fixtures"


def fixtures() -> dict[str, m.Message]:
    return {
        "add-points": m.add_points_messages(
            [350.0, 10.0, -20.5],
            [0.0, 45.0, -89.9],
            [1.5, np.nan, -3.0],
            title="Stations",
            layer_id="p1",
        )[0],
        "add-field": m.add_field_message(
            [170.0, 175.0, 180.0, 185.0],
            [10.0, 0.0],
            np.array([[1.0, 2.0, np.nan, 4.0], [5.0, 6.0, 7.0, 8.0]]),
            title="Regional",
            layer_id="f1",
        ),
        "add-mesh": m.add_field_message(
            np.array([[0.0, 10.0, 20.0], [1.0, 11.0, 21.0]]),
            np.array([[0.0, 0.5, 1.0], [10.0, 10.5, 11.0]]),
            np.array([[1.0, 2.0, 3.0], [4.0, np.nan, 6.0]]),
            title="Curvilinear",
            layer_id="m1",
        ),
        "add-trajectory": m.add_trajectory_message(
            [179.0, -179.0],
            [10.0, 11.0],
            pd.to_datetime(["2000-01-01T00:00", "2000-01-01T01:00"]).values,
            height=[0.0, 1000.0],
            title="Balloon",
            layer_id="t1",
        ),
        "add-footprints": m.add_footprints_message(
            [[170, -10, -170, 10]], title="Box", layer_id="b1"
        ),
    }


def write() -> None:
    FIXTURES.mkdir(parents=True, exist_ok=True)
    for name, (content, buffers) in fixtures().items():
        (FIXTURES / f"{name}.json").write_text(json.dumps(content, indent=1) + "\n")
        for i, buffer in enumerate(buffers):
            (FIXTURES / f"{name}.{i}.arrow").write_bytes(buffer)


def test_the_typescript_fixtures_are_what_the_kernel_sends():
    for name, (content, buffers) in fixtures().items():
        assert json.loads((FIXTURES / f"{name}.json").read_text()) == content, name
        for i, buffer in enumerate(buffers):
            assert (FIXTURES / f"{name}.{i}.arrow").read_bytes() == buffer, f"{name} buffer {i}"


if __name__ == "__main__":
    write()
    sys.exit(0)
