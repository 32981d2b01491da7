"""Path confinement of the data endpoints: a browser's path reaches a file only inside the server
root or a data root, whatever `..`, absolute paths, symbolic links or NUL bytes it holds."""

from __future__ import annotations

from pathlib import Path

import pytest

from espri_vre.data.paths import DataNotFound, PathRefused, resolve_data_path


@pytest.fixture
def tree(tmp_path: Path) -> dict[str, Path]:
    """root/ (the server root) with a file, a hidden file, a symlink out and a symlink into the
    data root; bdd/ (a data root outside root/); bdd-link -> bdd; secret/ outside everything."""
    root, bdd, secret = tmp_path / "root", tmp_path / "bdd", tmp_path / "secret"
    for d in (root / "data", root / ".hidden", bdd / "CMIP6", secret):
        d.mkdir(parents=True)
    (root / "data" / "tas.nc").write_bytes(b"x")
    (root / ".hidden" / "key.csv").write_text("a,b\n1,2\n")
    (bdd / "CMIP6" / "pr.nc").write_bytes(b"y")
    (secret / "passwd").write_text("root:x:0:0")
    (root / "escape").symlink_to(secret)
    (root / "escape.nc").symlink_to(secret / "passwd")
    (root / "to-bdd").symlink_to(bdd / "CMIP6")
    (tmp_path / "bdd-link").symlink_to(bdd)
    return {"root": root, "bdd": bdd, "secret": secret, "bdd-link": tmp_path / "bdd-link"}


def refusal(given: str, root: Path, *data_roots: Path, **options: bool) -> tuple[int, str]:
    """(status, detail) of resolve_data_path's PathRefused for `given`."""
    with pytest.raises(PathRefused) as refused:
        resolve_data_path(given, root, data_roots, **options)
    return refused.value.status, refused.value.detail


def test_a_relative_path_is_a_file_under_the_server_root(tree):
    resolved = resolve_data_path("data/tas.nc", tree["root"], [tree["bdd"]])
    assert resolved.path == (tree["root"] / "data" / "tas.nc").resolve()
    assert resolved.root == tree["root"].resolve()
    assert resolved.files_path == "data/tas.nc"


def test_an_absolute_path_inside_a_data_root_is_accepted_without_a_files_url(tree):
    resolved = resolve_data_path(str(tree["bdd"] / "CMIP6" / "pr.nc"), tree["root"], [tree["bdd"]])
    assert resolved.path == (tree["bdd"] / "CMIP6" / "pr.nc").resolve()
    assert resolved.root == tree["bdd"].resolve()
    assert resolved.files_path is None  # /files/ serves root_dir only


def test_a_data_root_configured_through_a_symlink_accepts_both_spellings(tree):
    for given in (tree["bdd-link"] / "CMIP6" / "pr.nc", tree["bdd"] / "CMIP6" / "pr.nc"):
        resolved = resolve_data_path(str(given), tree["root"], [tree["bdd-link"]])
        assert resolved.path == (tree["bdd"] / "CMIP6" / "pr.nc").resolve()


def test_a_symlink_from_the_root_into_a_data_root_is_followed(tree):
    resolved = resolve_data_path("to-bdd/pr.nc", tree["root"], [tree["bdd"]])
    assert resolved.path == (tree["bdd"] / "CMIP6" / "pr.nc").resolve()
    assert resolved.root == tree["bdd"].resolve()
    assert resolved.files_path is None  # /files/ refuses links that leave root_dir


@pytest.mark.parametrize(
    "given",
    ["../../etc/passwd", "data/../../secret/passwd", "data/../data/tas.nc", "../root/data/tas.nc"],
)
def test_dot_dot_is_refused_even_when_it_would_stay_inside(tree, given):
    status, detail = refusal(given, tree["root"], tree["bdd"])
    assert status == 403
    assert "contains '..'" in detail


@pytest.mark.parametrize("given", ["/etc/passwd", "SECRET"])
def test_an_absolute_path_outside_every_root_is_refused(tree, given):
    given = str(tree["secret"] / "passwd") if given == "SECRET" else given
    status, detail = refusal(given, tree["root"], tree["bdd"])
    assert status == 403
    assert detail == (
        f"{given} is outside the server root and the configured data roots: "
        "the server reads files only there."
    )


@pytest.mark.parametrize("given", ["escape/passwd", "escape.nc"])
def test_a_symlink_in_the_root_that_leads_outside_is_refused(tree, given):
    status, detail = refusal(given, tree["root"], tree["bdd"])
    assert status == 403
    # The link's target is the server's business: the sentence names the path as given only.
    assert detail == (
        f"{given} leads through a symbolic link to a place outside the server root and the "
        "configured data roots."
    )
    assert str(tree["secret"]) not in detail


def test_a_nul_byte_is_refused_as_a_bad_request(tree):
    status, detail = refusal("data/tas.nc\x00.csv", tree["root"])
    assert status == 400
    assert detail == "The path 'data/tas.nc\\x00.csv' contains a NUL byte."


@pytest.mark.parametrize("given", ["", "   "])
def test_an_empty_path_is_a_bad_request(tree, given):
    status, detail = refusal(given, tree["root"])
    assert status == 400


def test_a_missing_file_is_not_found_and_named(tree):
    with pytest.raises(DataNotFound) as missing:
        resolve_data_path("data/nothing.nc", tree["root"])
    assert missing.value.status == 404
    assert missing.value.detail == "There is no file data/nothing.nc on the server."


def test_hidden_files_follow_the_contents_manager_setting(tree):
    assert resolve_data_path(".hidden/key.csv", tree["root"]).files_path == ".hidden/key.csv"
    status, detail = refusal(".hidden/key.csv", tree["root"], allow_hidden=False)
    assert status == 403
    assert "hidden" in detail


def test_a_data_root_inside_the_server_root_is_reported_as_the_root(tree):
    resolved = resolve_data_path("data/tas.nc", tree["root"], [tree["root"] / "data"])
    assert resolved.root == (tree["root"] / "data").resolve()
    assert resolved.files_path == "data/tas.nc"


def test_a_visible_link_to_a_hidden_file_is_hidden_too(tree):
    (tree["root"] / "data" / "key.csv").symlink_to(tree["root"] / ".hidden" / "key.csv")
    (tree["root"] / "data" / "in-hidden").symlink_to(tree["root"] / ".hidden")
    for given in ("data/key.csv", "data/in-hidden/key.csv"):
        assert resolve_data_path(given, tree["root"]).path.name == "key.csv"
        status, detail = refusal(given, tree["root"], allow_hidden=False)
        assert status == 403
        assert detail.startswith(f"{given} is a hidden file")
        assert ".hidden" not in detail


def test_hidden_names_inside_a_zarr_store_may_count_as_visible(tree):
    store = tree["root"] / "data" / "x.zarr"
    store.mkdir()
    (store / ".zarray").write_text("{}")
    (store / "meta").symlink_to(tree["root"] / ".hidden" / "key.csv")
    found = resolve_data_path(
        "data/x.zarr/.zarray", tree["root"], allow_hidden=False, hidden_in_zarr=True
    )
    assert found.files_path == "data/x.zarr/.zarray"
    with pytest.raises(PathRefused):
        resolve_data_path("data/x.zarr/meta", tree["root"], allow_hidden=False, hidden_in_zarr=True)


@pytest.mark.parametrize("given", ["data/" + "a" * 300, "é" * 128 + "/tas.nc"])
def test_a_name_longer_than_the_file_system_allows_is_a_bad_request(tree, given):
    status, detail = refusal(given, tree["root"])
    assert status == 400
    assert "a name longer than 255 bytes" in detail


def test_sentences_name_the_path_as_shown(tree):
    with pytest.raises(DataNotFound) as missing:
        resolve_data_path(str(tree["bdd"] / "x.nc"), tree["root"], [tree["bdd"]], shown="@bdd/x.nc")
    assert missing.value.detail == "There is no file @bdd/x.nc on the server."
