"""Sphinx configuration of the espri-vre documentation (MyST Markdown pages).

Built by `npm run docs` (scripts/docs.sh) with warnings as errors."""

project = "espri-vre"
author = "ESPRI"
copyright = "ESPRI"
release = "0.1.0"

extensions = ["myst_parser"]
source_suffix = {".md": "markdown"}
myst_enable_extensions = ["colon_fence", "deflist"]
# Headings become link targets, so that pages can link to each other's sections.
myst_heading_anchors = 3
exclude_patterns = ["_build", "benchmarks.lock", "README.md"]
html_theme = "alabaster"
html_title = "espri-vre"
html_static_path: list[str] = []
# The benchmarks page links to its JSON twin; the JSON ships as a download.
suppress_warnings: list[str] = []
