"""The validated cache: keyed by the bytes it was built from, never by a later state of the file."""

from tppcalc.validated_cache import cached


def test_build_gets_the_bytes_of_the_key_and_a_file_changed_meanwhile_is_built_again(tmp_path, monkeypatch):
    monkeypatch.setenv("TPPCALC_CACHE_DIR", str(tmp_path / "cache"))
    data = tmp_path / "data.txt"
    data.write_text("first")
    calls = []

    def build(contents):
        calls.append(contents)
        data.write_text("second")  # the file changes while the first version is being validated
        return contents[0].decode()

    assert cached("test", [data], build, str) == "first"
    assert cached("test", [data], build, str) == "second"  # new bytes: built again, not "first"
    assert cached("test", [data], build, str) == "second"  # now from the cache
    assert calls == [[b"first"], [b"second"]]
