"""Fault injection through the real ``biaslens`` entry point: bad input, one clear line.

Every row of :data:`CASES` is a damaged input (made by an ``INPUTS`` function), the
command line run on it, a fragment the message must contain and the exit code. Each
case also checks that no traceback or raw warning is printed, that a failed command
prints nothing on stdout (no empty progress bar, no half table), and that the output
folder ``{out}`` is empty afterwards: nothing half-written left behind.

Adding a case is one line: ``Case(id, input, "command {in} --out {out}/x", fragment)``.
``{in}`` is the path the input function returned, ``{out}`` an empty folder. A new kind
of input is one more function in ``INPUTS`` (``make(tmp, tiny) -> Path``; ``tiny`` is the
session fixture of ``tests/conftest.py``: small checkpoints and a cache).
"""

from __future__ import annotations

import json
import os
import pickle
import shlex
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pytest
import torch
from PIL import Image

from biaslens.cli.main import main


# ----------------------------------------------------------------------------- inputs
def _cache(tmp: Path, tiny: dict) -> Path:
    """A private copy of the tiny cache, free to damage."""
    return Path(shutil.copytree(tiny["cache"], tmp / "cache"))


def _overwrite(path: Path, offset: int, data: bytes) -> None:
    with open(path, "r+b") as f:
        f.seek(offset)
        f.write(data)


def npy_header(tmp: Path, tiny: dict) -> Path:
    """images.npy with bytes of its header (the first 128) overwritten."""
    c = _cache(tmp, tiny)
    _overwrite(c / "images.npy", 20, b"}" * 10)
    return c


def npy_truncated(tmp: Path, tiny: dict) -> Path:
    c = _cache(tmp, tiny)
    p = c / "images.npy"
    p.write_bytes(p.read_bytes()[:-50])
    return c


def attrs_bytes(tmp: Path, tiny: dict) -> Path:
    """One label flipped in attrs.npy (the data bytes after the header)."""
    c = _cache(tmp, tiny)
    arr = np.load(c / "attrs.npy")
    arr[3, 5] = ~arr[3, 5]
    np.save(c / "attrs.npy", arr)
    return c


def split_bytes(tmp: Path, tiny: dict) -> Path:
    c = _cache(tmp, tiny)
    arr = np.load(c / "split.npy")
    arr[0] = (arr[0] + 1) % 3
    np.save(c / "split.npy", arr)
    return c


def extra_zip(tmp: Path, tiny: dict) -> Path:
    c = _cache(tmp, tiny)
    (c / "extra.npz").write_bytes(b"PK\x03\x04 not a zip")
    return c


def old_cache(tmp: Path, tiny: dict) -> Path:
    """A cache written before manifests recorded label hashes."""
    c = _cache(tmp, tiny)
    m = json.loads((c / "manifest.json").read_text())
    del m["label_hashes"]
    (c / "manifest.json").write_text(json.dumps(m))
    return c


def manifest_json(tmp: Path, tiny: dict) -> Path:
    c = _cache(tmp, tiny)
    (c / "manifest.json").write_text('{"format": "biaslens-cache",')
    return c


def no_manifest(tmp: Path, tiny: dict) -> Path:
    c = _cache(tmp, tiny)
    (c / "manifest.json").unlink()
    return c


def good_cache(tmp: Path, tiny: dict) -> Path:
    return _cache(tmp, tiny)


def nothing(tmp: Path, tiny: dict) -> Path:
    return tmp / "does-not-exist"


def empty_dir(tmp: Path, tiny: dict) -> Path:
    (tmp / "empty").mkdir()
    return tmp / "empty"


def _celeba(tmp: Path, n: int = 6) -> Path:
    from biaslens.data.celeba import format_table
    from biaslens.names import CELEBA_ATTRIBUTES

    root = tmp / "celeba"
    (root / "img_align_celeba").mkdir(parents=True)
    files = [f"{i + 1:06d}.jpg" for i in range(n)]
    rng = np.random.default_rng(0)
    for name in files:
        pixels = rng.integers(0, 256, (218, 178, 3), dtype=np.uint8)
        Image.fromarray(pixels).save(root / "img_align_celeba" / name)
    attrs = rng.random((n, len(CELEBA_ATTRIBUTES))) < 0.5
    (root / "list_attr_celeba.txt").write_text(format_table(files, attrs,
                                                            list(CELEBA_ATTRIBUTES)))
    return root


def celeba(tmp: Path, tiny: dict) -> Path:
    return _celeba(tmp)


def celeba_bad_image(tmp: Path, tiny: dict) -> Path:
    root = _celeba(tmp)
    (root / "img_align_celeba" / "000002.jpg").write_bytes(b"junk")
    return root


def celeba_partial(tmp: Path, tiny: dict) -> Path:
    """A partial download: the attribute file lists images that are not on disk."""
    root = _celeba(tmp)
    for name in ("000003.jpg", "000004.jpg"):
        (root / "img_align_celeba" / name).unlink()
    return root


def kaggle_bad_partition(tmp: Path, tiny: dict) -> Path:
    """Kaggle's CSV layout (CRLF) whose partition file has a split code 5 on line 3."""
    root = _celeba(tmp)
    text = (root / "list_attr_celeba.txt").read_text().splitlines()
    (root / "list_attr_celeba.txt").unlink()
    rows = ["image_id," + ",".join(text[1].split())] + [",".join(r.split()) for r in text[2:]]
    (root / "list_attr_celeba.csv").write_bytes(("\r\n".join(rows) + "\r\n").encode())
    files = [r.split()[0] for r in text[2:]]
    (root / "list_eval_partition.csv").write_text(
        "image_id,partition\n" + "".join(f"{f},{5 if i == 1 else 0}\n"
                                          for i, f in enumerate(files)))
    return root


def names_changed(tmp: Path, tiny: dict) -> Path:
    """An ingested cache whose image_names.npy names row 0 as another file."""
    from biaslens.data.ingest import ingest

    cache = ingest(_celeba(tmp, n=3), tmp / "named", size=8, workers=1)
    names = np.load(cache.path / "image_names.npy")
    names[0] = "000009.jpg"
    np.save(cache.path / "image_names.npy", names)
    return cache.path


def plain_pickle(tmp: Path, tiny: dict) -> Path:
    """pickle.dump of plain containers (protocol 4): not a torch.save file."""
    with open(tmp / "plain.pth", "wb") as f:
        pickle.dump({"gen": {"layer": [1.0, 2.0]}, "epoch": 3}, f, protocol=4)
    return tmp / "plain.pth"


def legacy_protocol4(tmp: Path, tiny: dict) -> Path:
    """torch.save's legacy format with pickle protocol 4 (weights_only cannot read it)."""
    torch.save({"w": torch.zeros(2)}, tmp / "legacy.pth", pickle_protocol=4,
               _use_new_zipfile_serialization=False)
    return tmp / "legacy.pth"


def damaged_pickle(tmp: Path, tiny: dict) -> Path:
    (tmp / "junk.pth").write_bytes(b"\x80\x04junk")
    return tmp / "junk.pth"


INPUTS: dict[str, Callable[[Path, dict], Path]] = {f.__name__: f for f in (
    npy_header, npy_truncated, attrs_bytes, split_bytes, extra_zip, old_cache, manifest_json,
    no_manifest, good_cache, nothing, empty_dir, celeba, celeba_bad_image, celeba_partial,
    kaggle_bad_partition, names_changed, plain_pickle,
    legacy_protocol4, damaged_pickle)}


# ----------------------------------------------------------------------------- the table
class Case(NamedTuple):
    id: str
    input: str            # a key of INPUTS
    args: str             # the command line after ``biaslens``; {in} and {out} filled in
    expect: str           # a fragment of the output (stderr + stdout)
    code: int = 2         # the exit code


CASES: list[Case] = [
    # a damaged .npy header is one line naming the file, whatever reads the cache
    Case("npy-header-info", "npy_header", "data info {in}", "images.npy: cannot read array"),
    Case("npy-header-verify", "npy_header", "data info {in} --verify", "images.npy: cannot read"),
    Case("npy-header-stats", "npy_header", "data stats {in} --json {out}/s.json",
         "images.npy: cannot read array"),
    Case("npy-header-preview", "npy_header", "data preview {in} --out {out}/p.png",
         "images.npy: cannot read array"),
    Case("npy-truncated", "npy_truncated", "data info {in}", "images.npy: cannot read array"),
    Case("npz-damaged", "extra_zip", "data info {in}", "extra.npz: cannot read extra columns"),
    # label files are checked on every load, the images with --verify
    Case("attrs-changed", "attrs_bytes", "data info {in}", "attrs.npy: content differs"),
    Case("attrs-changed-stats", "attrs_bytes", "data stats {in} --json {out}/s.json",
         "attrs.npy: content differs"),
    Case("split-changed", "split_bytes", "data info {in}", "split.npy: content differs"),
    Case("names-changed", "names_changed", "data info {in}", "image_names.npy: content differs"),
    Case("labels-verified", "good_cache", "data info {in}", "label files match", 0),
    Case("images-unverified", "good_cache", "data info {in}", "pass --verify", 0),
    Case("images-verified", "good_cache", "data info {in} --verify", "content hash verified", 0),
    Case("old-cache-loads", "old_cache", "data info {in}", "predates label hashes", 0),
    Case("manifest-json", "manifest_json", "data info {in}", "manifest is not valid JSON"),
    Case("no-manifest", "no_manifest", "data info {in}", "no manifest.json"),
    Case("no-cache", "nothing", "data info {in}", "cache folder not found"),
    # numeric options are range-checked before any work
    Case("stats-top-0", "good_cache", "data stats {in} --top 0", "'--top'"),
    Case("stats-top-neg", "good_cache", "data stats {in} --top -3", "'--top'"),
    Case("stats-n-boot-neg", "good_cache", "data stats {in} --n-boot -3", "'--n-boot'"),
    Case("stats-min-share", "good_cache", "data stats {in} --min-share 2", "'--min-share'"),
    Case("stats-min-group", "good_cache", "data stats {in} --min-group -1", "'--min-group'"),
    Case("stats-seed-neg", "good_cache", "data stats {in} --seed -1", "'--seed'"),
    Case("stats-limit-0", "good_cache", "data stats {in} --limit 0", "'--limit'"),
    Case("stats-split", "good_cache", "data stats {in} --split everything", "unknown split"),
    Case("stats-near-miss", "good_cache", "data stats {in} --target Femal",
         "did you mean 'Female'"),
    Case("synth-n-0", "empty_dir", "data synth --n 0 --out {out}/c", "'--n'"),
    Case("synth-seed-neg", "empty_dir", "data synth --n 4 --seed -1 --out {out}/c", "'--seed'"),
    Case("synth-val-frac", "empty_dir", "data synth --n 4 --val-frac 1.5 --out {out}/c",
         "'--val-frac'"),
    Case("synth-workers-0", "empty_dir", "data synth --n 4 --workers 0 --out {out}/c",
         "'--workers'"),
    Case("synth-size", "empty_dir", "data synth --n 4 --size 4 --out {out}/c",
         "at least 8x8"),
    Case("synth-world", "empty_dir", "data synth --n 4 --world nosuch --out {out}/c", "nosuch"),
    Case("synth-scene", "empty_dir", "data synth --n 4 --scene dim --out {out}/c",
         "Valid scenes: none, detection"),
    Case("dbvae-scene", "empty_dir", "mitigate dbvae --scene dim --out {out}/r",
         "Valid scenes: none, detection"),
    Case("synth-exists", "good_cache", "data synth --n 4 --size 8 --out {in}",
         "already exists here; pass --overwrite"),
    Case("preview-n-0", "good_cache", "data preview {in} --n 0 --out {out}/p.png", "'--n'"),
    Case("preview-seed-neg", "good_cache", "data preview {in} --seed -1 --out {out}/p.png",
         "'--seed'"),
    Case("preview-no-source", "nothing", "data preview {in} --out {out}/p.png",
         "no such cache folder or world file"),
    Case("demo-n-boot-neg", "empty_dir", "data demo --n-boot -3 --out {out}/d", "'--n-boot'"),
    # ingest: checked before the progress bar starts, messages in CLI words
    Case("ingest-size-0", "celeba", "data ingest {in} --size 0 --out {out}/c", "'--size'"),
    Case("ingest-workers-0", "celeba", "data ingest {in} --workers 0 --out {out}/c",
         "'--workers'"),
    Case("ingest-crop", "celeba", "data ingest {in} --crop 1,2 --out {out}/c", "field 'crop'"),
    Case("ingest-not-source", "empty_dir", "data ingest {in} --out {out}/c",
         "no label CSV given (--csv FILE)"),
    Case("ingest-no-source", "nothing", "data ingest {in} --out {out}/c", "source not found"),
    Case("ingest-bad-image", "celeba_bad_image",
         "data ingest {in} --size 8 --workers 1 --out {out}/c",
         "000002.jpg: cannot decode"),
    Case("ingest-bad-image-flag", "celeba_bad_image",
         "data ingest {in} --size 8 --workers 1 --out {out}/c",
         "pass --skip-bad to drop unreadable images"),
    Case("ingest-partial", "celeba_partial", "data ingest {in} --size 8 --out {out}/c",
         "(2 missing in all, of 6 listed; next: 000004.jpg); a partial download? pass "
         "--only-present"),
    Case("ingest-kaggle-split", "kaggle_bad_partition", "data ingest {in} --size 8 --out {out}/c",
         "partition.csv, line 3: split must be 0 (train), 1 (val) or 2 (test), got 5"),
    Case("ingest-exists", "good_cache", "data ingest {in} --out {in}",
         "already exists here; pass --overwrite"),
    # third-party weights: what is actually wrong, no raw torch warning
    Case("import-plain-pickle", "plain_pickle", "models import {in} --out {out}/m",
         "a plain Python pickle (pickle.dump), not a file written by torch.save"),
    Case("import-protocol-4", "legacy_protocol4", "models import {in} --out {out}/m",
         "written with pickle protocol 4"),
    Case("import-damaged", "damaged_pickle", "models import {in} --out {out}/m",
         "damaged or truncated pickle"),
    Case("import-missing", "nothing", "models import {in} --out {out}/m", "no such file"),
    Case("models-info-missing", "nothing", "models info {in}", "no such checkpoint folder"),
    # audits, demo, mitigations, training, experiments and the report: every numeric flag
    # is checked while the command line is parsed, before any model, data or output
    Case("steer-n-neg", "empty_dir", "audit steer --n -5 --out {out}/s",
         "Invalid value for '--n': must be >= 2; got -5"),
    Case("steer-steps-0", "empty_dir", "audit steer --steps 0 --out {out}/s", "'--steps'"),
    Case("steer-fdr-1", "empty_dir", "audit steer --fdr 1 --out {out}/s",
         "'--fdr': must be in (0, 1)"),
    Case("steer-fdr-nan", "empty_dir", "audit steer --fdr nan --out {out}/s",
         "must be a finite number"),
    Case("steer-n-boot-neg", "empty_dir", "audit steer --n-boot -3 --out {out}/s",
         "'--n-boot': must be >= 0"),
    Case("steer-step-size-0", "empty_dir", "audit steer --step-size 0 --out {out}/s",
         "'--step-size': must be a positive number, 'course' or 'calibrated'"),
    Case("steer-top-k-0", "empty_dir", "audit steer --top-k 0 --out {out}/s", "'--top-k'"),
    Case("steer-n-show-0", "empty_dir", "audit steer --n-show 0 --out {out}/s", "'--n-show'"),
    Case("steer-seed-neg", "empty_dir", "audit steer --seed -1 --out {out}/s", "'--seed'"),
    Case("steer-disentangle-neg", "empty_dir", "audit steer --disentangle -1 --out {out}/s",
         "'--disentangle'"),
    Case("steer-direction", "empty_dir", "audit steer --direction up --out {out}/s",
         "direction must be one of '+', '-', 'both'"),
    Case("population-n-neg", "empty_dir", "audit population --n -5 --out {out}/p",
         "'--n': must be >= 2; got -5"),
    Case("population-batch-0", "empty_dir", "audit population --batch-size 0 --out {out}/p",
         "'--batch-size'"),
    Case("population-top-k-0", "empty_dir", "audit population --top-k 0 --out {out}/p",
         "'--top-k'"),
    Case("reconstruct-n-neg", "empty_dir", "audit reconstruct --per-group -5 --out {out}/r",
         "'--per-group'"),
    Case("reconstruct-n-boot", "empty_dir", "audit reconstruct --n-boot -1 --out {out}/r",
         "'--n-boot'"),
    Case("counterfactual-n-neg", "empty_dir", "audit counterfactual --n -5 --out {out}/c",
         "'--n': must be >= 1; got -5"),
    Case("counterfactual-scale-0", "empty_dir",
         "audit counterfactual --scale 0 --out {out}/c", "'--scale': must be > 0"),
    Case("fairness-n-boot", "good_cache", "audit fairness --predictions {in}/x.csv --y-true y "
         "--y-pred p --sensitive s --n-boot -1", "'--n-boot'"),
    Case("demo-n-steer-1", "empty_dir", "demo --n-steer 1 --out {out}/d", "'--n-steer'"),
    Case("demo-n-0", "empty_dir", "demo --n 0 --out {out}/d", "'--n'"),
    Case("demo-target", "empty_dir", "demo --target Femal --out {out}/d",
         "did you mean 'Female'"),
    Case("demo-classifier", "nothing", "demo --classifier {in} --out {out}/d",
         "classifier checkpoint not found"),
    Case("dbvae-n-faces-neg", "empty_dir", "mitigate dbvae --n-faces -5 --out {out}/r",
         "'--n-faces': must be >= 1"),
    Case("dbvae-epochs-0", "empty_dir", "mitigate dbvae --epochs 0 --out {out}/r", "'--epochs'"),
    Case("dbvae-bins-0", "empty_dir", "mitigate dbvae --bins 0 --out {out}/r", "'--bins'"),
    Case("latent-aug-n-fit", "good_cache",
         "mitigate latent-aug {in} --target Smiling --n-fit 1 --out {out}/r", "'--n-fit'"),
    Case("latent-aug-exp-cosine", "empty_dir",
         "experiment latent-aug --toy --targets Smiling --cosine 2 --out {out}/r", "'--cosine'"),
    Case("ratio-sweep-steps", "empty_dir", "experiment ratio-sweep --steps 0 --out {out}/r",
         "'--steps'"),
    Case("ratio-sweep-size", "empty_dir", "experiment ratio-sweep --size 4 --out {out}/r",
         "'--size': must be >= 8"),
    Case("train-steps-neg", "good_cache", "train gan {in} --steps -5 --out {out}/r",
         "'--steps': must be >= 1; got -5"),
    Case("train-batch-0", "good_cache", "train vae {in} --batch-size 0 --out {out}/r",
         "'--batch-size'"),
    Case("train-lr-0", "good_cache", "train classifier {in} --lr 0 --out {out}/r",
         "'--lr': must be > 0"),
    Case("train-log-every-0", "good_cache", "train cvae {in} --log-every 0 --out {out}/r",
         "'--log-every'"),
    Case("train-dbvae-epochs", "good_cache", "train dbvae {in} --epochs 0 --out {out}/r",
         "'--epochs'"),
    Case("train-beta-neg", "good_cache", "train vae {in} --beta -1 --out {out}/r", "'--beta'"),
    Case("data-demo-size", "empty_dir", "data demo --size 4 --out {out}/d", "at least 8x8"),
    Case("report-n-boot", "good_cache", "report {in} --n-boot -1 --out {out}/r.html",
         "'--n-boot'"),
    Case("report-steer-n", "good_cache", "report {in} --steer-n 1 --out {out}/r.html",
         "'--steer-n'"),
    Case("import-exists", "good_cache", "models import {in}/manifest.json --out {in}",
         "already exists here; pass --overwrite"),
    Case("check-no-cache", "nothing", "models check {in} {in}", "no such checkpoint folder"),
    # predict and audit fairness: the output and the inputs checked before any work
    Case("predict-format", "good_cache", "predict {in} --out {out}/p.txt",
         "unknown predictions format '.txt'"),
    Case("predict-split", "good_cache", "predict {in} --split everything --out {out}/p.csv",
         "unknown split"),
    Case("predict-no-cache", "nothing", "predict {in} --out {out}/p.csv", "no such cache folder"),
    Case("fairness-no-input", "nothing", "audit fairness --sensitive Male",
         "give either --predictions FILE or a CACHE folder"),
    Case("fairness-no-target", "good_cache", "audit fairness {in} --sensitive Male",
         "with a CACHE, give --target"),
    # judges: an unknown --judge is refused before anything is generated or written
    Case("population-judge-unknown", "nothing",
         "audit population --judge {in} --n 10 --out {out}/p", "not a judge name"),
    Case("steer-judge-unknown", "nothing", "audit steer --judge {in} --out {out}/s",
         "judge checkpoint not found"),
    Case("judge-coverage-unknown", "nothing",
         "experiment judge-coverage --judges oracle --out {out}/j", "unknown oracle"),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_fault(case: Case, tiny, tmp_path, capsys):
    out = tmp_path / "out"
    out.mkdir()
    given = INPUTS[case.input](tmp_path, tiny)
    args = [a.format(**{"in": given, "out": out}) for a in shlex.split(case.args)]
    with pytest.raises(SystemExit) as exit_info:
        main(args)
    captured = capsys.readouterr()
    text = " ".join((captured.err + captured.out).split())   # undo the console's wrapping
    assert exit_info.value.code == case.code, text
    assert case.expect in text
    for noise in ("Traceback", "Warning:"):
        assert noise not in text
    if case.code != 0:
        assert captured.out == ""                # no empty progress bar, no half a table
        assert captured.err.count("\n") <= 6     # typer boxes usage errors in a few lines
    assert sorted(os.listdir(out)) == []         # nothing half-written left behind


# ----------------------------------------------------------------------------- signals
def _biaslens(log: Path, *args: str) -> subprocess.Popen:
    """``biaslens ARGS`` in a new session, stdout and stderr to ``log`` (not pipes: a
    surviving worker would hold a pipe open and hang the test)."""
    code = "import sys; from biaslens.cli.main import main; main(sys.argv[1:])"
    with open(log, "w") as f:
        return subprocess.Popen([sys.executable, "-c", code, *args], stdout=f, stderr=f,
                                start_new_session=True)


def _wait_for(predicate: Callable[[], bool], timeout: float) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def _descendants(pid: int) -> set[int]:
    """Every live process below ``pid`` (Linux /proc)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            children.setdefault(ppid, []).append(int(entry))
    found, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def _running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")


def _many_images(tmp: Path, n: int = 4000) -> Path:
    """A folder+CSV source of ``n`` hard links to one 512 px PNG: slow enough to kill."""
    src = tmp / "many"
    src.mkdir()
    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 256, (512, 512, 3), dtype=np.uint8)).save(src / "0.png")
    for i in range(1, n):
        os.link(src / "0.png", src / f"{i}.png")
    (src / "labels.csv").write_text("filename,Male\n" + "".join(f"{i}.png,{i % 2}\n"
                                                                for i in range(n)))
    return src


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux /proc")
def test_sigkill_of_ingest_leaves_no_worker(tmp_path):
    src = _many_images(tmp_path)
    log = tmp_path / "log.txt"
    proc = _biaslens(log, "data", "ingest", str(src), "--csv", str(src / "labels.csv"),
                     "--out", str(tmp_path / "c"), "--size", "8", "--workers", "2")
    workers: set[int] = set()
    try:
        assert _wait_for(lambda: len(_descendants(proc.pid)) >= 2, 60), log.read_text()
        time.sleep(0.5)                                # let them get busy decoding
        workers = _descendants(proc.pid)
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        assert _wait_for(lambda: not any(_running(p) for p in workers), 10), \
            [p for p in workers if _running(p)]
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
        for pid in workers:                            # a failed run must not leak them
            if _running(pid):
                os.kill(pid, signal.SIGKILL)


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux /proc")
def test_sigkill_of_synth_leaves_no_render_worker(tmp_path):
    log = tmp_path / "log.txt"
    proc = _biaslens(log, "data", "synth", "--n", "200000", "--size", "32", "--workers", "2",
                     "--out", str(tmp_path / "c"))
    workers: set[int] = set()
    try:
        assert _wait_for(lambda: len(_descendants(proc.pid)) >= 2, 60), log.read_text()
        time.sleep(1.0)                                # let them get busy rendering
        workers = _descendants(proc.pid)
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        assert _wait_for(lambda: not any(_running(p) for p in workers), 10), \
            [p for p in workers if _running(p)]
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
        for pid in workers:                            # a failed run must not leak them
            if _running(pid):
                os.kill(pid, signal.SIGKILL)


def test_sigint_says_interrupted_and_leaves_nothing(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    log = tmp_path / "log.txt"
    proc = _biaslens(log, "data", "synth", "--n", "20000", "--size", "32",
                     "--out", str(out / "c"))
    try:
        # interrupt while the cache is being written into its partial folder
        assert _wait_for(lambda: any(out.iterdir()), 60), log.read_text()
        proc.send_signal(signal.SIGINT)
        proc.wait(30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
    err = log.read_text()
    assert proc.returncode == 130
    assert "interrupted" in err and "not written" in err and "Traceback" not in err
    assert sorted(os.listdir(out)) == []
