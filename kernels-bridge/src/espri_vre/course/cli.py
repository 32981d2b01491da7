"""`espri-vre course ...`: the teacher's commands.

espri-vre course link COURSE.yaml          print the class's one link
espri-vre course check COURSE.yaml         check the file, print what the class gets
espri-vre course example DIR --demo DEMO   write the worked example course (a git repository)
"""

from __future__ import annotations

import argparse
import sys

from .link import course_link
from .model import CourseError, read_course


def add_parser(commands: argparse._SubParsersAction) -> None:
    course = commands.add_parser("course", help="practical classes: the course link, the example")
    sub = course.add_subparsers(dest="course_command", required=True)
    link = sub.add_parser("link", help="print the one link that gives a class its course")
    link.add_argument("course", help="the course file (YAML)")
    check = sub.add_parser("check", help="check a course file and say what the class gets")
    check.add_argument("course", help="the course file (YAML)")
    example = sub.add_parser("example", help="write the worked example course on the demo data")
    example.add_argument("out", help="the course repository's directory (made anew)")
    example.add_argument("--demo", required=True, help="the demo's directory (its data is pinned)")
    example.add_argument("--hub", default="http://127.0.0.1:8000", help="the hub's address")


def run(args: argparse.Namespace) -> int:
    try:
        if args.course_command == "example":
            from .example import write_example

            path = write_example(args.out, args.demo, args.hub)
            print(f"example course written to {path.parent}: {course_link(read_course(path))}")
            return 0
        course = read_course(args.course)
    except (CourseError, OSError) as error:
        print(f"espri-vre course {args.course_command}: {error}", file=sys.stderr)
        return 2
    if args.course_command == "link":
        print(course_link(course))
        return 0
    print(f"{course.title} ({course.id}): notebooks from {course.notebooks.repo}")
    print(f"  into ~/{course.notebooks.targetpath}, profile {course.profile or '(the default)'}")
    for pin in course.datasets:
        print(f"  dataset {pin.name}: {pin.root}:{pin.path} sha256 {pin.sha256 or '(not pinned)'}")
    for preset in course.presets:
        print(f"  preset {preset['name']}")
    print(f"  caps: {dict(course.caps) or 'none'}")
    print(course_link(course))
    return 0
