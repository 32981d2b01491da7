"""The worked example course on the demo data: a git repository with the course file and two
notebooks, as a teacher would publish it. The demo's files are pinned with their SHA-256.

    espri-vre course example /tmp/climate-101 --demo .demo
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import nbformat
import yaml

from .apply import sha256_of
from .model import read_course

COURSE_ID = "climate-101"
DATA_ROOT = "demo-data"
"""The demo's data root id (espri_vre.demo writes it in its server configuration)."""
PINS = (
    ("tas", "tas_demo_monthly.nc", "Monthly near-surface air temperature (demo field)"),
    ("stations", "stations_demo.parquet", "Station time series (demo)"),
)
FIRST = "notebooks/01_first_look.ipynb"
SECOND = "notebooks/02_send_a_job.ipynb"


def course_content(repo_url: str, hub: str, data_dir: Path) -> dict[str, Any]:
    return {
        "id": COURSE_ID,
        "title": "Climate data 101: a first look at a temperature field",
        "hub": hub,
        "notebooks": {
            "repo": repo_url,
            "branch": "main",
            "targetpath": COURSE_ID,
            "course_file": "course.yaml",
            "open": FIRST,
        },
        "datasets": [
            {
                "name": name,
                "root": DATA_ROOT,
                "path": file,
                "sha256": sha256_of(data_dir / file),
                "version": "demo-1",
                "description": description,
            }
            for name, file, description in PINS
        ],
        "jobs": {
            "caps": {"nodes": 1, "cpus": 2, "memory": "2G", "walltime": "00:30:00", "gpus": 0},
            "presets": [
                {
                    "name": "Class: 1 core, 1 GB, 10 minutes",
                    "cluster": "local",
                    "cpus": 1,
                    "memory": "1G",
                    "walltime": "00:10:00",
                },
                {
                    "name": "Class: 2 cores, 2 GB, 30 minutes",
                    "cluster": "local",
                    "cpus": 2,
                    "memory": "2G",
                    "walltime": "00:30:00",
                },
            ],
        },
        "environment": {
            "profile": "class",
            "image": "registry.example.org/espri-vre/singleuser-cpu:0.1.0",
        },
    }


def _notebook(cells: list[tuple[str, str]]) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    for kind, source in cells:
        new = nbformat.v4.new_markdown_cell if kind == "md" else nbformat.v4.new_code_cell
        nb.cells.append(new(source))
    return nb


def first_notebook() -> nbformat.NotebookNode:
    return _notebook(
        [
            (
                "md",
                "# A first look at a temperature field\n\nThe course pins its data: "
                "`open_dataset` gives the very file the teacher chose, checked by its hash.",
            ),
            ("code", 'from espri_vre.course import open_dataset\n\nds = open_dataset("tas")\nds'),
            ("md", "The global mean over the whole period, in kelvin:"),
            ("code", 'float(ds["tas"].mean())'),
            ("md", "The annual cycle at one point:"),
            (
                "code",
                'ds["tas"].sel(lat=45, lon=5, method="nearest")'
                '.groupby("time.month").mean().values',
            ),
        ]
    )


def second_notebook() -> nbformat.NotebookNode:
    return _notebook(
        [
            (
                "md",
                "# Sending work to the cluster\n\nUse **Submit as job** in the notebook "
                "toolbar: the class presets are in its list. This notebook runs as a job.",
            ),
            (
                "code",
                "from espri_vre.course import open_dataset\n\n"
                'ds = open_dataset("tas")\n'
                'print(float(ds["tas"].max() - ds["tas"].min()))',
            ),
        ]
    )


def write_example(out: str | Path, demo_dir: str | Path, hub: str) -> Path:
    """Writes the course repository at `out` (replaced) and commits it on branch main;
    returns the course file's path."""
    repo = Path(out).resolve()
    data = Path(demo_dir).resolve() / "data"
    for _, file, _ in PINS:
        if not (data / file).is_file():
            raise FileNotFoundError(
                f"{data / file} is missing: build the demo first (python -m espri_vre.demo build)"
            )
    if repo.exists():
        shutil.rmtree(repo)
    (repo / "notebooks").mkdir(parents=True)
    course = course_content(repo.as_uri(), hub, data)
    (repo / "course.yaml").write_text(
        "# The course file of the worked example (docs/teacher-guide.md).\n"
        + yaml.safe_dump(course, sort_keys=False)
    )
    nbformat.write(first_notebook(), repo / FIRST)
    nbformat.write(second_notebook(), repo / SECOND)
    (repo / "README.md").write_text(
        f"# {course['title']}\n\nOpen the class link your teacher gave you; the notebooks are "
        f"in `{FIRST}` and `{SECOND}`.\n"
    )
    git = ["git", "-C", str(repo), "-c", "user.name=espri-vre", "-c", "user.email=vre@localhost"]
    for args in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-q", "-m", "course"]):
        subprocess.run([*git, *args], check=True, capture_output=True)
    path = repo / "course.yaml"
    read_course(path)  # what was written must be a valid course
    return path
