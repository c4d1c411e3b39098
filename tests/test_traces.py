"""The trace store: lookup, checksum-keyed conversion, bad files, csv/txt through libcachesim."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from pytest_policysmith.cache.traces import (
    SYNTHETIC_NAME, TraceError, libcachesim_reader, open_trace, read_requests, resolve, sha256_file,
)


def test_name_lookup_and_checksum_from_manifest(traces_dir):
    manifest = {r.split("\t")[0]: r.split("\t") for r in (traces_dir / "MANIFEST.tsv").read_text().splitlines()[1:]}
    trace = open_trace("cloudphysics/cloudPhysicsIO", [traces_dir])
    assert trace.sha256 == manifest["cloudPhysicsIO"][10]
    assert trace.n_requests == int(manifest["cloudPhysicsIO"][4])
    assert trace.n_objects == int(manifest["cloudPhysicsIO"][5])
    assert trace.footprint_bytes == int(manifest["cloudPhysicsIO"][6])


def test_numpy_decode_equals_libcachesim_reader(traces_dir):
    path = traces_dir / "cloudphysics" / "cloudPhysicsIO.oracleGeneral.bin.zst"
    ids, sizes = read_requests(path)
    lcs_ids, lcs_sizes = zip(*((r.obj_id, r.obj_size) for r in libcachesim_reader(path)))
    assert np.array_equal(ids, np.asarray(lcs_ids, dtype=np.uint64))
    assert np.array_equal(sizes, np.asarray(lcs_sizes, dtype=np.uint32))


def test_missing_trace_error_names_everything(tmp_path):
    with pytest.raises(TraceError) as err:
        resolve("cloudphysics/w999", [tmp_path], download=False)
    msg = str(err.value)
    assert "cloudphysics/w999" in msg and str(tmp_path) in msg
    assert "s3://cache-datasets/cache_dataset_oracleGeneral/2015_cloudphysics/w999.oracleGeneral.bin.zst" in msg
    assert "--synth-traces" in msg


def test_failed_download_says_why_and_how_to_fix(tmp_path):
    # This machine has no route to the public hub (and may lack boto3): either way, a clear error.
    with pytest.raises(TraceError) as err:
        resolve("cloudphysics/w999", [tmp_path], download=True)
    assert "download from s3://" in str(err.value) and "fix:" in str(err.value)


def test_unknown_dataset_has_no_url(tmp_path):
    with pytest.raises(TraceError, match="no public dataset is known"):
        resolve("mystery/thing", [tmp_path])


def test_truncated_zst_is_refused(traces_dir, tmp_path):
    src = (traces_dir / "cloudphysics" / "cloudPhysicsIO.oracleGeneral.bin.zst").read_bytes()
    cut = tmp_path / "cut.oracleGeneral.bin.zst"
    cut.write_bytes(src[: len(src) // 2])
    with pytest.raises(TraceError, match=r"cut\.oracleGeneral\.bin\.zst: truncated zstd"):
        open_trace(str(cut))


def test_garbage_zst_is_refused(tmp_path):
    bad = tmp_path / "bad.oracleGeneral.bin.zst"
    bad.write_bytes(b"\x00not zstd at all" * 50)
    with pytest.raises(TraceError, match="corrupt zstd"):
        open_trace(str(bad))


def test_partial_record_is_refused(tmp_path):
    bad = tmp_path / "odd.oracleGeneral.bin"
    bad.write_bytes(b"\x01" * (24 * 10 + 5))
    with pytest.raises(TraceError, match="not a whole number of 24-byte"):
        open_trace(str(bad))


def test_unknown_format_is_refused(tmp_path):
    f = tmp_path / "trace.dat"
    f.write_bytes(b"123")
    with pytest.raises(TraceError, match="cannot tell the trace format"):
        open_trace(str(f))


def test_csv_and_txt_read_through_libcachesim(tmp_path):
    csv = tmp_path / "t.csv"
    csv.write_text("time,obj_id,obj_size\n" + "".join(f"{i},{k},{100 + k}\n" for i, k in enumerate([5, 6, 5, 7, 5])))
    txt = tmp_path / "t.txt"
    txt.write_text("".join(f"{k}\n" for k in [5, 6, 5, 7, 5]))
    c, t = open_trace(str(csv)), open_trace(str(txt))
    assert (c.n_requests, c.n_objects, c.footprint_bytes) == (5, 3, 105 + 106 + 107)
    assert (t.n_requests, t.n_objects) == (5, 3)
    obj, size = c.load_arrays()
    assert list(obj) == [0, 1, 0, 2, 0] and list(size) == [105, 106, 105, 107, 105]


def test_conversion_is_keyed_by_checksum(tmp_path):
    f = tmp_path / "x.txt"
    f.write_text("1\n2\n1\n")
    a = open_trace(str(f))
    f.write_text("1\n2\n3\n4\n")
    b = open_trace(str(f))
    assert a.sha256 != b.sha256 and a.arrays_path != b.arrays_path
    assert (a.n_requests, b.n_requests) == (3, 4)


def test_synthetic_offline_default():
    trace = open_trace(SYNTHETIC_NAME)
    assert trace.n_requests == 200_000 and trace.n_objects > 10_000
    assert open_trace(SYNTHETIC_NAME).sha256 == trace.sha256  # generated once, deterministic


def test_text_that_is_not_a_trace_is_refused(tmp_path):
    from pytest_policysmith.cache.traces import TraceError, open_trace

    f = tmp_path / "LICENSE.txt"
    f.write_text("Apache License\nVersion 2.0\n")
    with pytest.raises(TraceError, match="line 1 is not a txt trace record"):
        open_trace(str(f))


def test_dataset_listing_skips_documentation(tmp_path):
    from pytest_policysmith.cache.traces import dataset_traces, synthetic_trace

    synthetic_trace(tmp_path / "d" / "a.oracleGeneral.bin.zst", 20_000, 2_000, seed=1)
    (tmp_path / "d" / "LICENSE.txt").write_text("MIT\n")
    (tmp_path / "d" / "README.md").write_text("x\n")
    assert [Path(p).name for p in dataset_traces(str(tmp_path / "d"))] == ["a.oracleGeneral.bin.zst"]


def test_a_checksum_follows_the_file_when_it_changes(tmp_path):
    """sha256_file remembers a file's digest per version (inode, size, mtime): a rewritten file is hashed again."""
    import hashlib
    import os

    f = tmp_path / "t.bin"
    f.write_bytes(b"a" * 100)
    assert sha256_file(f) == hashlib.sha256(b"a" * 100).hexdigest()
    f.write_bytes(b"b" * 100)
    os.utime(f, ns=(1, 1))  # even with an old mtime, the size or inode or mtime differs from the first version
    assert sha256_file(f) == hashlib.sha256(b"b" * 100).hexdigest()
    g = tmp_path / "g.bin"
    g.write_bytes(b"c" * 7)
    os.replace(g, f)  # a new inode under the same name
    assert sha256_file(f) == hashlib.sha256(b"c" * 7).hexdigest()
