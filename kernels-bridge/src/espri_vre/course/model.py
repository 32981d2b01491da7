"""The course file of a practical class: read, checked, and turned into one model. Pure: no
file is written and no server is asked here.

A course names the notebooks' git repository (pulled by nbgitpuller), the datasets pinned for
the class (a file in a data root, with its SHA-256), the job presets offered to the students
and the caps no preset may pass, and the hub profile the class runs in. Its JSON Schema is
course.schema.json beside this file.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path, PurePosixPath
from typing import Any

import jsonschema
import yaml

from ..errors import EspriVreError
from ..jobs.types import JobValidationError
from ..jobs.validation import parse_memory_mb, parse_walltime

SCHEMA_PATH = Path(__file__).with_name("course.schema.json")
MAX_COURSE_BYTES = 256 * 1024
DEFAULT_COURSE_FILE = "course.yaml"


class CourseError(EspriVreError, ValueError):
    """A course file that cannot be used; `problems` are (where, what) pairs."""

    status = 422
    code = "invalid-course"

    def __init__(self, problems: list[tuple[str, str]] | str, where: str = "course") -> None:
        self.problems = [(where, problems)] if isinstance(problems, str) else list(problems)
        super().__init__("; ".join(f"{w}: {m}" for w, m in self.problems))


@dataclass(frozen=True)
class PinnedDataset:
    name: str
    root: str
    path: str
    sha256: str | None = None
    version: str | None = None
    description: str | None = None


@dataclass(frozen=True)
class Notebooks:
    repo: str
    branch: str | None
    targetpath: str
    course_file: str
    open: str | None


@dataclass(frozen=True)
class Course:
    id: str
    title: str
    hub: str
    notebooks: Notebooks
    datasets: tuple[PinnedDataset, ...] = ()
    presets: tuple[Mapping[str, Any], ...] = ()
    caps: Mapping[str, Any] = field(default_factory=dict)
    profile: str | None = None
    image: str | None = None

    @property
    def course_path(self) -> str:
        """The course file's path in the student's home, once pulled."""
        return f"{self.notebooks.targetpath}/{self.notebooks.course_file}"

    def as_record(self) -> dict[str, Any]:
        """The JSON written beside the pulled notebooks (what the kernel helpers read)."""
        return {
            "id": self.id,
            "title": self.title,
            "datasets": [
                {k: v for k, v in vars(d).items() if v is not None} for d in self.datasets
            ],
            "presets": [dict(p) for p in self.presets],
            "caps": dict(self.caps),
            "profile": self.profile,
        }


@cache
def _validator() -> jsonschema.Draft202012Validator:
    schema = json.loads(SCHEMA_PATH.read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def read_course(path: str | Path, name: str | None = None) -> Course:
    """The course in a YAML file; CourseError naming each problem and the file as `name`
    (its path by default)."""
    source = Path(path)
    name = str(source) if name is None else name
    try:
        size = source.stat().st_size
    except OSError as error:
        raise CourseError(f"cannot read {name}: {error.strerror or error}") from None
    if size > MAX_COURSE_BYTES:
        raise CourseError(f"{name} is {size} bytes; a course file is at most {MAX_COURSE_BYTES}")
    return parse_course(source.read_text(encoding="utf-8"), name)


def parse_course(text: str, name: str = "course.yaml") -> Course:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise CourseError(f"{name} is not valid YAML: {error}") from None
    if not isinstance(data, dict):
        raise CourseError(f"{name} must be a mapping (id, title, hub, notebooks, ...)")
    problems = [
        ("/".join(map(str, e.absolute_path)) or "(top)", e.message)
        for e in sorted(_validator().iter_errors(data), key=lambda e: list(e.absolute_path))
    ]
    if problems:
        raise CourseError(problems)
    return _build(data)


def _build(data: Mapping[str, Any]) -> Course:
    problems: list[tuple[str, str]] = []
    nb = data["notebooks"]
    repo_name = PurePosixPath(nb["repo"].rstrip("/")).name.removesuffix(".git")
    targetpath = nb.get("targetpath") or repo_name
    for key, value in (("course_file", nb.get("course_file")), ("open", nb.get("open"))):
        if value is not None and ".." in PurePosixPath(value).parts:
            problems.append((f"notebooks/{key}", f"{value!r} must not contain '..'"))
    datasets = tuple(PinnedDataset(**d) for d in data.get("datasets", []))
    seen: set[str] = set()
    for i, d in enumerate(datasets):
        if d.name in seen:
            problems.append((f"datasets/{i}/name", f"{d.name!r} is pinned twice"))
        seen.add(d.name)
        parts = PurePosixPath(d.path).parts
        if PurePosixPath(d.path).is_absolute() or ".." in parts:
            problems.append(
                (f"datasets/{i}/path", f"{d.path!r} must be relative to its data root, no '..'")
            )
    jobs = data.get("jobs", {})
    caps = dict(jobs.get("caps", {}))
    presets = tuple(dict(p) for p in jobs.get("presets", []))
    problems += _check_sizes("jobs/caps", caps)
    names: set[str] = set()
    for i, preset in enumerate(presets):
        where = f"jobs/presets/{i}"
        if preset["name"] in names:
            problems.append((f"{where}/name", f"{preset['name']!r} is used twice"))
        names.add(preset["name"])
        sizes = _check_sizes(where, preset)
        problems += sizes
        if not sizes:
            problems += _over_caps(where, preset, caps)
    if problems:
        raise CourseError(problems)
    env = data.get("environment", {})
    return Course(
        id=data["id"],
        title=data["title"],
        hub=data["hub"].rstrip("/"),
        notebooks=Notebooks(
            repo=nb["repo"],
            branch=nb.get("branch"),
            targetpath=targetpath,
            course_file=nb.get("course_file", DEFAULT_COURSE_FILE),
            open=nb.get("open"),
        ),
        datasets=datasets,
        presets=presets,
        caps=caps,
        profile=env.get("profile"),
        image=env.get("image"),
    )


def _check_sizes(where: str, entry: Mapping[str, Any]) -> list[tuple[str, str]]:
    problems = []
    for key, parse in (("memory", parse_memory_mb), ("walltime", parse_walltime)):
        if key in entry:
            try:
                parse(entry[key])
            except JobValidationError as error:
                problems.append((f"{where}/{key}", error.problems[0][1]))
    return problems


def _over_caps(
    where: str, preset: Mapping[str, Any], caps: Mapping[str, Any]
) -> list[tuple[str, str]]:
    """A preset field above the course's cap; a field the preset leaves out takes the
    cluster's default, which the caps cannot judge, so a capped field must be given."""
    problems = []
    measures = {
        "nodes": int,
        "cpus": int,
        "gpus": int,
        "memory": parse_memory_mb,
        "walltime": parse_walltime,
    }
    for key, measure in measures.items():
        if key not in caps:
            continue
        if key not in preset:
            if key != "gpus" and key != "nodes":
                problems.append(
                    (f"{where}/{key}", f"the course caps {key} at {caps[key]}: give it")
                )
            continue
        if measure(preset[key]) > measure(caps[key]):
            problems.append(
                (f"{where}/{key}", f"{key} {preset[key]} is above the course's cap {caps[key]}")
            )
    return problems
