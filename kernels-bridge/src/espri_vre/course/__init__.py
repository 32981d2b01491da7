"""Practical classes: a course file (model.py), its one link (link.py), applying it on the
student's server (apply.py; its route is in espri_vre.server.course_handlers), the pinned
datasets in the kernel (datasets.py) and the worked example on the demo data (example.py)."""

from __future__ import annotations

from .datasets import course_record, dataset, open_dataset
from .link import course_link
from .model import Course, CourseError, parse_course, read_course

__all__ = [
    "Course",
    "CourseError",
    "course_link",
    "course_record",
    "dataset",
    "open_dataset",
    "parse_course",
    "read_course",
]
