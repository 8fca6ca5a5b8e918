"""batch: --jobs, what a batch file may hold, and exit codes that survive a closed stdout."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
from pathlib import Path

import pytest
from cli_support import JACLI, SAMPLES, jacli_popen, run, tree_env

MIXED = "\n".join(
    [
        "# agree, disagree, ok, error",
        'check "A X B wrt X" A=2x3 X=3x4 B=4x5 --against "B\' ⊗ A"',
        'check "A X B wrt X" A=2x3 X=3x4 B=4x5 --against "A ⊗ B\'"',
        'derive "A X B wrt X" A=2x3 B=4x5 --symbolic',
        'check "A X wrt"',
        'check "inv(X) wrt X" X=3x3 --against "-(X^-T ⊗ X^-1)"',
    ]
)


def _lines(stdout: str) -> list[str]:
    return stdout.splitlines()[:-1]  # the summary holds the time


def _shell(command: str, cwd: Path) -> subprocess.CompletedProcess:
    """``command`` in bash, with ``jacli`` the working tree's (a function, so that pipes and
    redirections apply to it as to the console script)."""
    define = f'jacli() {{ {shlex.join(JACLI)} "$@"; }}; '
    return subprocess.run(
        ["bash", "-c", define + command], cwd=cwd, capture_output=True, text=True, env=tree_env(), timeout=120
    )


@pytest.mark.parametrize("jobs", ["2", "0", "3"])
def test_jobs_give_the_same_lines_in_the_same_order(tmp_path, jobs):
    (tmp_path / "b.txt").write_text(MIXED + "\n")
    one = run("batch", tmp_path / "b.txt")
    many = run("batch", tmp_path / "b.txt", "--jobs", jobs)
    assert one.exit_code == many.exit_code == 2
    assert _lines(many.stdout) == _lines(one.stdout)
    assert many.stdout.splitlines()[-1].startswith("5 lines: 2 agree, 1 disagree, 1 ok, 1 error")
    js = run("batch", tmp_path / "b.txt", "--jobs", jobs, "--format", "json")
    recs = [json.loads(x) for x in js.stdout.splitlines()]
    assert [r.get("line") for r in recs[:-1]] == [2, 3, 4, 5, 6]
    assert recs[-1]["summary"]["lines"] == 5


def test_jobs_exit_codes_are_those_of_one_job():
    ok = run("batch", SAMPLES / "identities.txt", "--jobs", "2")
    assert ok.exit_code == 0, ok.stdout
    assert ok.stdout.splitlines()[-1].startswith("24 lines: 23 agree, 1 ok")
    disagree = "\n".join(MIXED.splitlines()[1:3])
    r = run("batch", "-", "-j", "2")
    assert r.exit_code == 0  # empty stdin: nothing to do
    r = run("batch", "-", "--jobs", "2", input=disagree)
    assert r.exit_code == 1 and "1 disagree" in r.stdout
    bad = run("batch", SAMPLES / "identities.txt", "--jobs", "-1")
    assert bad.exit_code == 2 and "--jobs must be 0" in bad.stderr


def _batch(text: str, *args: str):
    return run("batch", "-", "--format", "json", *args, input=text)


def _records(r) -> list[dict]:
    return [json.loads(x) for x in r.stdout.splitlines()]


def test_a_trailing_comment_and_a_leading_jacli_are_read_as_a_shell_would():
    r = _batch(
        "check \"X' wrt X\" X=2x3 --against 'K(2,3)'   # the commutation matrix\n"
        'jacli check "X\' wrt X" X=2x3  # pasted from a shell\n'
        "check \"X' wrt X\" X=2x3 --against 'K(2,3) # not a comment inside quotes'\n"
    )
    recs = _records(r)
    assert [x["verdict"] for x in recs[:2]] == ["agree", "agree"]
    assert recs[2]["verdict"] == "error"
    assert recs[2]["error"] == "unexpected character '#' at column 8"  # the '#' was part of the formula


def test_a_line_format_is_an_error_not_silently_ignored():
    r = _batch('derive "A X B wrt X" A=2x3 B=4x5 --symbolic --format json\ncheck "X\' wrt X" X=2x2 --format=plain\n')
    recs = _records(r)
    assert r.exit_code == 2
    for rec in recs[:2]:
        assert rec["verdict"] == "error"
        assert rec["error"] == "--format belongs to the batch, not to a line: jacli batch FILE --format json"


def test_summary_of_one_line_is_singular():
    r = run("batch", "-", input='check "X\' wrt X" X=2x2\n')
    assert r.stdout.splitlines()[-1].startswith("1 line: 1 agree (")
    r = run("batch", "-", input="# nothing\n")
    assert r.stdout.splitlines()[-1].startswith("0 lines: nothing to do")


def test_too_deep_a_line_is_bad_input_as_on_the_command_line():
    expr = " + ".join(["X"] * 3000) + " wrt X"
    cli = run("derive", expr, "X=2x2", "--random")
    assert cli.exit_code == 2 and "nested too deeply" in cli.stderr
    r = _batch(f'derive "{expr}" X=2x2 --random\ncheck "X\' wrt X" X=2x2\n')
    recs = _records(r)
    assert r.exit_code == 2  # not 70: no bug
    assert recs[0]["verdict"] == "error" and "nested too deeply or is too long" in recs[0]["error"]
    assert recs[1]["verdict"] == "agree"


def test_a_huge_line_is_refused_and_the_others_run():
    r = _batch('check "X\' wrt X" X=2x2 ' + "x" * 10_000_000 + '\ncheck "X\' wrt X" X=2x2\n')
    recs = _records(r)
    assert recs[0]["verdict"] == "error" and "10,000,023 characters long, over the limit of 65,536" in recs[0]["error"]
    assert recs[1]["verdict"] == "agree" and r.exit_code == 2


def test_files_that_are_not_batch_text_are_refused(tmp_path):
    zero = run("batch", "/dev/zero")
    assert zero.exit_code == 2 and zero.stderr == "jacli: error: /dev/zero: not a text file (it holds NUL bytes)\n"
    (tmp_path / "latin1.txt").write_bytes('check "X\' wrt X" X=2x2  # é\n'.encode("latin-1"))
    latin = run("batch", tmp_path / "latin1.txt")
    assert latin.exit_code == 2 and latin.stderr.endswith("latin1.txt: not UTF-8 text (line 1)\n")
    (tmp_path / "d").mkdir()
    folder = run("batch", tmp_path / "d")
    assert (folder.exit_code, folder.stderr) == (2, f"jacli: error: {tmp_path / 'd'}: is a directory\n")
    missing = run("batch", tmp_path / "nope.txt")
    assert (missing.exit_code, missing.stderr) == (2, f"jacli: error: {tmp_path / 'nope.txt'}: no such file\n")


def test_a_file_over_the_limit_is_refused(tmp_path, monkeypatch):
    import jacli.cli.batch as batch

    monkeypatch.setattr(batch, "MAX_FILE", 1000)
    monkeypatch.setattr(batch, "_READ", 100)
    (tmp_path / "big.txt").write_text("# padding\n" * 200)
    r = run("batch", tmp_path / "big.txt")
    assert r.exit_code == 2 and "more than" in r.stderr and "split it" in r.stderr


def test_closed_stdin_is_bad_input(tmp_path):
    r = _shell("jacli batch - <&-", tmp_path)
    assert r.returncode == 2
    assert r.stderr == "jacli: error: stdin is closed: give the batch a file, or pipe lines into `jacli batch -`\n"


# A closed stdout: the general mechanism (any command) belongs to jacli/cli/reporting.py;
# batch and check compute their verdict first and keep it whatever happens to the writes.
@pytest.mark.parametrize("jobs", ["1", "2"])
def test_batch_exit_code_survives_head(tmp_path, jobs):
    lines = ['check "X\' wrt X" X=2x2'] * 400 + ['check "A X wrt"']
    (tmp_path / "ids.txt").write_text("\n".join(lines) + "\n")
    r = _shell(f"jacli batch ids.txt --jobs {jobs} | head -2; exit ${{PIPESTATUS[0]}}", tmp_path)
    assert r.returncode == 2, r.stderr
    assert len(r.stdout.splitlines()) == 2
    assert "Traceback" not in r.stderr and "Exception" not in r.stderr


def test_check_exit_code_survives_a_reader_that_left(tmp_path):
    wrong = "jacli check 'A X B wrt X' A=2x3 X=3x4 B=4x5 --against \"A ⊗ B'\""
    r = _shell(f"{wrong} | true; exit ${{PIPESTATUS[0]}}", tmp_path)
    assert r.returncode == 1 and r.stderr == ""
    right = "jacli check 'A X B wrt X' A=2x3 X=3x4 B=4x5 --against \"B' ⊗ A\""
    assert _shell(f"{right} | true; exit ${{PIPESTATUS[0]}}", tmp_path).returncode == 0
    full = _shell(f"{wrong} > /dev/full", tmp_path)
    assert full.returncode == 1 and "cannot write to stdout (No space left on device)" in full.stderr
    closed = _shell(f"{wrong} >&-", tmp_path)
    assert closed.returncode == 1


def test_lines_run_at_once_share_the_default_memory_limit(monkeypatch):
    import jacli.io.specs as specs
    from jacli.cli.app import parse_line
    from jacli.cli.batch import record

    monkeypatch.setattr(specs, "default_max_memory", lambda: 4_000_000)
    line = 'derive "A X B wrt X" A=20x20 B=20x20 X=20x20 --random'
    alone, _ = record(1, line, parse_line, share=1)  # J: 400×400, 1.28 MB
    assert alone["verdict"] == "ok", alone
    shared, _ = record(1, line, parse_line, share=4)  # 1 MB each
    assert shared["verdict"] == "error" and "above the limit of 1,000,000 bytes" in shared["error"]
    given, _ = record(1, line + " --max-memory 2MB", parse_line, share=4)  # a line's own limit stands
    assert given["verdict"] == "ok"


def test_batch_lines_read_only_what_they_need(tmp_path, monkeypatch):
    import numpy as np

    monkeypatch.chdir(tmp_path)
    np.savez(tmp_path / "v.npz", X=np.eye(2), Big=np.zeros((1000, 1000)))  # Big: 8 MB, in no line
    np.save(tmp_path / "W.npy", np.zeros((1000, 1000)))
    lines = [
        'derive "tr(X) wrt X" --values v.npz --max-memory 1MB',  # the expression's arrays only
        'derive "tr(W) wrt W" W=W.npy --symbolic --max-memory 1MB',  # --symbolic: headers only
        'derive "tr(W) wrt W" W=W.npy --max-memory 1MB',  # the values are needed: refused
    ]
    (tmp_path / "b.txt").write_text("\n".join(lines) + "\n")
    r = run("batch", str(tmp_path / "b.txt"), "--format", "json")
    verdicts = [json.loads(x)["verdict"] for x in r.stdout.splitlines()[:-1]]
    assert verdicts == ["ok", "ok", "error"], r.stdout


def _children(pid: int) -> list[int]:
    try:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="Linux's /proc")
@pytest.mark.parametrize("what", ["a worker killed", "the batch terminated"])
def test_a_pool_stopped_or_broken_ends_cleanly(tmp_path, what):
    import signal
    import time

    (tmp_path / "b.txt").write_text('check "A X B wrt X" A=25x25 B=25x25 X=25x25\n' * 400)
    p = jacli_popen("batch", "b.txt", "--jobs", "2", cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 20
    while len(_children(p.pid)) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    workers = _children(p.pid)
    assert len(workers) == 2
    time.sleep(0.3)
    if what == "a worker killed":  # as the out-of-memory killer would
        os.kill(workers[0], signal.SIGKILL)
    else:
        p.send_signal(signal.SIGTERM)
    _, err = p.communicate(timeout=30)
    err = err.decode()
    assert "Traceback" not in err
    if what == "a worker killed":
        assert p.returncode == 2 and "a --jobs process ended abruptly" in err
    else:
        assert p.returncode == -signal.SIGTERM and err == ""
    assert all(
        not Path(f"/proc/{w}").exists() or "Z" in Path(f"/proc/{w}/stat").read_text().split()[2] for w in workers
    )


def test_batch_refuses_what_it_would_drop(tmp_path):
    lines = [
        'derive "inv(X) wrt X" X=3x3 --differential',
        'derive "inv(X) wrt X" X=3x3 --random --direction X=[[1,0,0],[0,1,0],[0,0,1]]',
    ]
    (tmp_path / "b.txt").write_text("\n".join(lines) + "\n")
    r = run("batch", str(tmp_path / "b.txt"), "--format", "json")
    recs = [json.loads(x) for x in r.stdout.splitlines()[:-1]]
    assert r.exit_code == 2
    assert all(x["verdict"] == "error" and "not batch lines" in x["error"] for x in recs) and len(recs) == 2
