"""Values passed from one pipeline step to the next: a notebook step records a value in its output
notebook, and a later notebook step receives it as a parameter.

In the producing notebook:

    from espri_vre.jobs.step_values import record
    record("count", 42)

shows the value as a JSON output whose metadata is `{"espri_vre": {"output": "count"}}`, which
papermill keeps in the output notebook (a value put in the notebook's own metadata,
`metadata.espri_vre.outputs`, is read too). In the pipeline file, a parameter of a later step
says `"{steps.ID.outputs.count}"`.

All the steps are submitted at once, before any value exists: the step's script reads the values
when it starts (`python -m espri_vre.jobs.step_values fill ...` with the cluster's Python, just
before papermill) and gives them to papermill as a last `-y`, which overrides the parameters
written at submission. A value that the producing notebook did not record fails the step with a
sentence that names it, before the notebook runs."""

from __future__ import annotations

import json
import re
import shlex
import sys
from collections.abc import Mapping
from typing import Any

VALUE_REF = re.compile(r"\{steps\.([A-Za-z][A-Za-z0-9_-]*)\.outputs\.([A-Za-z_][A-Za-z0-9_]*)\}")
MIME = "application/json"


class MissingValue(Exception):
    """A value the step reads that its producing notebook did not record."""


def record(name: str, value: Any) -> None:
    """Records `value` (anything JSON can hold) as this notebook's output `name`."""
    from IPython.display import display  # only in a kernel: the server never records

    json.dumps(value)  # refuses what the next step could not read, here where it is made
    display({MIME: value}, raw=True, metadata={"espri_vre": {"output": name}})


def read_outputs(path: str) -> dict[str, Any]:
    """The values an output notebook recorded: its own metadata's, then its outputs' (the last
    recorded wins)."""
    import nbformat  # papermill's own reader, present wherever notebook jobs run

    notebook = nbformat.read(path, as_version=4)
    values = dict(notebook.metadata.get("espri_vre", {}).get("outputs", {}))
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            name = output.get("metadata", {}).get("espri_vre", {}).get("output")
            if isinstance(name, str) and MIME in output.get("data", {}):
                values[name] = output["data"][MIME]
    return values


def fill(template: Mapping[str, Any], sources: Mapping[str, str]) -> dict[str, Any]:
    """The parameters of `template` with the values they name: a parameter that is one reference
    takes the value with its type (42 stays a number), one inside a longer string its text.
    `sources`: each producing step's output notebook."""
    read: dict[str, dict[str, Any]] = {}

    def value(step: str, name: str) -> Any:
        if step not in read:
            try:
                read[step] = read_outputs(sources[step])
            except (OSError, ValueError, KeyError) as e:
                raise MissingValue(
                    f"the output notebook of step {step} cannot be read ({e})"
                ) from e
        if name not in read[step]:
            raise MissingValue(
                f"step {step} recorded no value {name!r} in {sources[step]} (record it there "
                f"with espri_vre.jobs.step_values.record({name!r}, ...))"
            )
        return read[step][name]

    def one(item: Any) -> Any:
        if isinstance(item, str):
            whole = VALUE_REF.fullmatch(item)
            if whole:
                return value(*whole.groups())
            return VALUE_REF.sub(lambda m: str(value(*m.groups())), item)
        if isinstance(item, list):
            return [one(i) for i in item]
        if isinstance(item, Mapping):
            return {k: one(v) for k, v in item.items()}
        return item

    return {k: one(v) for k, v in template.items()}


def with_values(
    script: str, template: Mapping[str, Any], sources: Mapping[str, str], python: str
) -> str:
    """A notebook job's script that reads the values before papermill runs and gives them to it
    as a last `-y` (papermill applies its -y options in order)."""
    lines = script.rstrip("\n").split("\n")
    q = shlex.quote
    read = (
        f"espri_values=$({q(python)} -m espri_vre.jobs.step_values fill"
        f" {q(json.dumps(dict(template)))} {q(json.dumps(dict(sources)))}) || exit 1"
    )
    command = lines[-1]
    assert " -m papermill " in command, "values are given to notebook steps only"
    return "\n".join([*lines[:-1], read, f'{command} -y "$espri_values"']) + "\n"


def main(argv: list[str]) -> int:
    """`python -m espri_vre.jobs.step_values fill TEMPLATE SOURCES`: the filled parameters as
    JSON (which is YAML, for papermill's -y); a missing value said on stderr, exit 1."""
    if len(argv) != 3 or argv[0] != "fill":
        sys.stderr.write("usage: python -m espri_vre.jobs.step_values fill TEMPLATE SOURCES\n")
        return 2
    try:
        filled = fill(json.loads(argv[1]), json.loads(argv[2]))
    except (MissingValue, ValueError) as e:
        sys.stderr.write(f"espri-vre: this pipeline step cannot start: {e}\n")
        return 1
    sys.stdout.write(json.dumps(filled, ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
