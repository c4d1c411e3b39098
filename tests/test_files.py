"""The one atomic write: old or new content, never half, and no temporary file left on failure."""

from __future__ import annotations

import os

import pytest

from pytest_policysmith.storage.files import write_atomic


def test_write_atomic_replaces_whole_files(tmp_path):
    dest = tmp_path / "sub" / "f.bin"
    write_atomic(dest, "old")
    write_atomic(dest, [b"ne", b"w"], mode=0o755)
    assert dest.read_text() == "new" and os.stat(dest).st_mode & 0o777 == 0o755
    assert sorted(p.name for p in dest.parent.iterdir()) == ["f.bin"]


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path):
    dest = tmp_path / "f.json"
    write_atomic(dest, "old")

    def chunks():
        yield b"partial"
        raise OSError(28, "No space left on device")

    with pytest.raises(OSError, match="No space left") as err:
        write_atomic(dest, chunks())
    assert err.value.filename == str(dest)  # the file meant, not the temporary
    assert dest.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["f.json"]
