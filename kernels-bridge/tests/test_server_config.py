"""Validation of the EspriVreApp configuration: bad entries are named in the log and reported,
never fatal."""

from __future__ import annotations

from espri_vre.config import DEFAULT_CLUSTER, classify_location, validate


def test_no_cluster_configured_gives_the_embedded_local_back_end():
    config = validate([], [], [])
    [local] = config.clusters
    assert (local.id, local.title, local.kind, local.transport) == (
        "local",
        "This server (local processes)",
        "local",
        "local",
    )
    assert dict(local.settings) == DEFAULT_CLUSTER
    assert config.errors == []


def test_well_formed_entries_pass_unchanged():
    config = validate(
        [{"id": "c", "title": "C", "kind": "stac", "url": "https://stac.example.org/"}],
        [
            {
                "id": "hpc",
                "title": "HPC",
                "kind": "slurm",
                "transport": "ssh",
                "ssh": {"host": "login.example.org", "user": "me", "key_file": "~/.ssh/id"},
                "defaults": {"partition": "zen4"},
                "limits": {"walltime": "24:00:00"},
            }
        ],
        [{"id": "bdd", "title": "BDD", "path": "/bdd"}],
    )
    assert config.errors == config.warnings == []
    assert config.catalogs[0].problem is None
    assert config.clusters[0].settings["defaults"] == {"partition": "zen4"}
    assert config.data_roots[0].path == "/bdd"


def test_entries_outside_the_contract_are_dropped_and_named_in_the_log():
    config = validate(
        ["just a string", {"id": "ftp-cat", "title": "F", "kind": "ftp", "url": "/x"}],
        [{"id": "pbs", "kind": "pbspro"}, {"id": "gw", "kind": "slurm", "transport": "gsissh"}],
        [],
    )
    assert config.catalogs == []
    assert config.clusters == []
    assert config.errors == [
        "EspriVreApp.catalogs[0] is not an object (str): ignored",
        "EspriVreApp.catalogs[1] ('ftp-cat'): unknown kind 'ftp', expected one of esgf, stac, "
        "intake-esm, thredds, csw: ignored",
        "EspriVreApp.clusters[0] ('pbs'): unknown kind 'pbspro', expected one of local, slurm, "
        "torque: ignored",
        "EspriVreApp.clusters[1] ('gw'): unknown transport 'gsissh', expected local or ssh: "
        "ignored",
    ]


def test_broken_entries_stay_listed_with_their_problem():
    config = validate(
        [
            {"id": "a", "title": "A", "kind": "esgf"},
            {"id": "b", "title": "B", "kind": "stac", "url": "catalogs/stac.json"},
            {"id": "c", "title": "C", "kind": "thredds", "url": "ftp://ftp.example.org/cat.xml"},
        ],
        [{"id": "far", "title": "Far", "kind": "torque", "transport": "ssh"}],
        [{"id": "r", "title": "R", "path": "relative/dir"}],
    )
    problems = [c.problem for c in config.catalogs]
    assert problems == [
        "configuration error: it has no url (an http(s) URL or an absolute path on the server)",
        "configuration error: 'catalogs/stac.json' is a relative path: give an absolute path on "
        "the server",
        "configuration error: the URL scheme 'ftp' is not supported: give an http(s) URL or an "
        "absolute path on the server",
    ]
    assert config.clusters[0].problem == (
        "configuration error: the ssh transport needs ssh.host (and usually user, key_file)"
    )
    assert config.data_roots[0].problem.startswith("configuration error: 'relative/dir' is a")
    assert len(config.errors) == 5
    assert config.errors[0].startswith("EspriVreApp.catalogs[0] ('a'): it has no url")


def test_missing_and_duplicate_ids_and_titles_are_made_up_and_warned_about():
    config = validate(
        [
            {"kind": "stac", "url": "/srv/stac/catalog.json"},
            {"id": "dup", "title": "One", "kind": "stac", "url": "/a.json"},
            {"id": "dup", "title": "Two", "kind": "stac", "url": "/b.json", "colour": "red"},
        ],
        [],
        [],
    )
    assert [(c.id, c.title) for c in config.catalogs] == [
        ("catalog-1", "catalog-1"),
        ("dup", "One"),
        ("dup-3", "Two"),
    ]
    assert all(c.problem is None for c in config.catalogs)
    assert "EspriVreApp.catalogs[2] ('dup-3'): unknown keys colour are ignored" in config.warnings


def test_locations_are_classified():
    assert classify_location("https://esgf-node.ipsl.upmc.fr/esg-search") == ("url", None)
    assert classify_location("/bdd/CMIP6/catalog.json") == ("path", None)
    assert classify_location("http:///nohost")[0] == "invalid"
    assert classify_location("s3://bucket/cat.json")[0] == "invalid"
