"""An ESGF index and data node on the loopback for the Galata test of an ESGF dataset's preview
(ui-tests/tests/catalog-esgf-files.spec.ts): the recorded real esg-search answers of
../shared/fixtures/catalog, served again, and real CMIP6 files read by Range requests.

- `/esg-search/search?type=Dataset...` answers the recorded Dataset search as it was recorded;
- `/esg-search/search?type=File&dataset_id=...` answers the recorded File search (two files
  of one dataset, split along time), each document as recorded but for what names its file:
  the file's URL (an HTTPServer URL on this server), title, id and size. The recorded files are
  on a data node out of reach here, so they stand for two real files of this server: the
  MIROC6 prsn of ../shared/data/cmip6-sample split along time, one month per file, written
  by xarray (its encodings kept) into a temporary folder;
- `/thredds/fileServer/<name>` serves those files with tornado's StaticFileHandler (Range
  requests, ETag), as a THREDDS data node's fileServer does.

    python esgf_index.py SHARED --port PORT

prints one JSON line (the port and the files) once it listens, serves until stdin closes.
"""

from __future__ import annotations

import asyncio
import copy
import json
import sys
import tempfile
import threading
from pathlib import Path

import tornado.web

DATASETS = "esgf_esgsearch_solrjson_CMIP6_Dataset_limit10_with_facet_counts__EXTRACTED.json"
FILES = "esgf_esgsearch_solrjson_File_multiple_results__metagrid_fixture.json"
SOURCE = (
    "data/cmip6-sample/CMIP6/CMIP/MIROC/MIROC6/historical/r4i1p1f1/Amon/prsn/gn/v20190311/prsn/"
    "prsn_Amon_MIROC6_historical_r4i1p1f1_gn_195001-201412.nc"
)


def split_along_time(source: Path, folder: Path) -> list[str]:
    """One file per time step of `source` in `folder`, named as CMIP6 names a period."""
    import xarray as xr

    names = []
    with xr.open_dataset(source) as ds:
        stem = source.name.rsplit("_", 1)[0]
        for step in range(ds.sizes["time"]):
            month = ds.time.dt.strftime("%Y%m").values[step]
            name = f"{stem}_{month}-{month}.nc"
            ds.isel(time=[step]).to_netcdf(folder / name)
            names.append(name)
    return names


class Search(tornado.web.RequestHandler):
    def initialize(self, shared: Path, files: list[Path], port: int) -> None:
        self.shared, self.files, self.port = shared, files, port

    def get(self) -> None:
        fixtures = self.shared / "fixtures" / "catalog"
        if self.get_argument("type", "Dataset") != "File":
            self.set_header("Content-Type", "application/json")
            self.finish((fixtures / DATASETS).read_bytes())
            return
        answer = json.loads((fixtures / FILES).read_text("utf-8"))
        recorded = answer["response"]["docs"]
        docs = []
        for template, path in zip(recorded, self.files, strict=True):
            doc = copy.deepcopy(template)
            url = f"http://127.0.0.1:{self.port}/thredds/fileServer/{path.name}"
            doc.update(
                url=[f"{url}|application/netcdf|HTTPServer"],
                title=path.name,
                id=f"{self.get_argument('dataset_id', '')}.{path.name}",
                size=path.stat().st_size,
            )
            docs.append(doc)
        answer["response"].update(docs=docs, numFound=len(docs))
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps(answer))


def main(argv: list[str]) -> None:
    shared = Path(argv[0]).resolve()
    port = int(argv[argv.index("--port") + 1])
    with tempfile.TemporaryDirectory(prefix="esgf-node-") as folder:
        names = split_along_time(shared / SOURCE, Path(folder))
        files = [Path(folder) / name for name in names]
        stop = threading.Event()

        async def serve() -> None:
            app = tornado.web.Application(
                [
                    (
                        r"/esg-search/search",
                        Search,
                        {"shared": shared, "files": files, "port": port},
                    ),
                    (r"/thredds/fileServer/(.*)", tornado.web.StaticFileHandler, {"path": folder}),
                ]
            )
            server = app.listen(port, "127.0.0.1")
            print(json.dumps({"port": port, "files": names}), flush=True)
            await asyncio.get_running_loop().run_in_executor(None, stop.wait)
            server.stop()

        threading.Thread(target=lambda: (sys.stdin.read(), stop.set()), daemon=True).start()
        asyncio.run(serve())


if __name__ == "__main__":
    main(sys.argv[1:])
