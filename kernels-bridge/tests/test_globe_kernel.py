"""The Globe widget in a real IPython kernel (ipykernel through jupyter_client), with this
test playing the browser on the widget's comm: the layer arrives as Arrow IPC buffers, a
click sent back reaches the Python callback, a camera moved in the browser is read in
Python, and `await g.screenshot()` gets the browser's PNG while the cell awaits it."""

from __future__ import annotations

import json
import struct
import zlib
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from conftest import real_kernel, run_cell
from jupyter_client.blocking.client import BlockingKernelClient

from espri_vre.globe import decode

TIMEOUT = 120


@pytest.fixture(scope="module")
def kernel() -> Iterator[BlockingKernelClient]:
    with real_kernel() as client:
        yield client


def send_comm(
    client: BlockingKernelClient, comm_id: str, data: dict[str, Any], buffers: list[bytes] = ()
) -> None:
    """A comm message as the browser's widget manager sends it."""
    msg = client.session.msg("comm_msg", {"comm_id": comm_id, "data": data})
    client.session.send(client.shell_channel.socket, msg, buffers=list(buffers))


def tiny_png() -> bytes:
    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body))
            + kind
            + body
            + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)
        )

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00\x10\x20\x30"))
        + chunk(b"IEND", b"")
    )


def globe_comm(comms: list[dict[str, Any]]) -> str:
    [opened] = [
        c
        for c in comms
        if c["msg_type"] == "comm_open"
        and c["content"]["data"]["state"].get("_model_name") == "GlobeModel"
    ]
    return opened["content"]["comm_id"]


def test_points_click_camera_and_screenshot_round_trip(kernel: BlockingKernelClient):
    comms = run_cell(
        kernel,
        """
import numpy as np
from espri_vre.globe import Globe
g = Globe()
clicks = []
g.on_click(clicks.append)
layer = g.add_points(np.array([350.0, 10.0, 20.0]), np.array([0.0, 45.0, -30.0]),
                     np.array([1.5, np.nan, 7.25]), title="Stations")
""",
    ).comms
    comm_id = globe_comm(comms)
    custom = [
        c
        for c in comms
        if c["msg_type"] == "comm_msg" and c["content"]["data"]["method"] == "custom"
    ]
    [points] = custom
    content = points["content"]["data"]["content"]
    assert content["type"] == "add-points" and content["protocol"] == 1
    columns = decode(points["buffers"][0])
    np.testing.assert_array_equal(columns["lon"], [350.0, 10.0, 20.0])
    assert columns["value"][2] == 7.25 and np.isnan(columns["value"][1])

    # The browser reports a click on the third point, and a moved camera.
    click = {
        "lon": 20.0,
        "lat": -30.0,
        "layer_id": content["layer_id"],
        "title": "Stations",
        "value": 7.25,
        "index": 2,
    }
    send_comm(
        kernel,
        comm_id,
        {"method": "custom", "content": {"protocol": 1, "type": "click", **click}},
    )
    camera = {
        "lon": 20.0,
        "lat": -30.0,
        "height": 1.5e6,
        "heading": 0.0,
        "pitch": -90.0,
        "roll": 0.0,
    }
    send_comm(
        kernel, comm_id, {"method": "update", "state": {"camera": camera}, "buffer_paths": []}
    )
    printed = run_cell(
        kernel,
        "import json; print(json.dumps({'clicks': clicks, 'camera': g.camera, 'layer': layer}))",
    ).printed
    seen = json.loads(printed)
    assert seen["clicks"] == [click]  # the callback got the click as the browser sent it
    assert seen["camera"] == camera
    assert seen["layer"] == content["layer_id"]

    # screenshot() asks the browser and waits for its PNG while the cell runs.
    png = tiny_png()

    def answer(msg: dict[str, Any]) -> None:
        data = msg["content"].get("data", {})
        asked = data.get("content", {}) if data.get("method") == "custom" else {}
        if asked.get("type") == "screenshot":
            send_comm(
                kernel,
                comm_id,
                {
                    "method": "custom",
                    "content": {
                        "protocol": 1,
                        "type": "screenshot",
                        "request_id": asked["request_id"],
                    },
                },
                [png],
            )

    printed = run_cell(
        kernel,
        "png = await g.screenshot(timeout=60)\n"
        "print(len(png), png[:8] == b'\\x89PNG\\r\\n\\x1a\\n')",
        on_message=answer,
    ).printed
    assert printed.split() == [str(len(png)), "True"]


def test_a_screenshot_nobody_answers_times_out_with_a_clear_message(kernel: BlockingKernelClient):
    reply = kernel.execute_interactive(
        "from espri_vre.globe import Globe\nawait Globe().screenshot(timeout=1)", timeout=TIMEOUT
    )["content"]
    assert reply["status"] == "error"
    assert reply["ename"] == "TimeoutError"
    assert "is the globe displayed in an open notebook" in reply["evalue"]
