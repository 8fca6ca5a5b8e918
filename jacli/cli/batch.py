"""``jacli batch``: many derive/check lines in one process, each parsed by the command
line's own parser and run through the same code as on the command line."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Generator, Iterator
from contextlib import closing
from typing import Any

from ..api.hessians import HessianCheck
from ..errors import ExitCode, JacliError, fit, printable
from ..syntax.printer import to_text
from .commands import do_check, do_derive, request_of
from .progress import LazyBar
from .render import check_record, json_sizes
from .reporting import json_line, wording

Record = dict[str, Any]  # a line's record, as JSON writes it
LineParser = Callable[[list[str]], tuple[str, dict[str, Any]]]


def run_line(name: str, params: dict[str, Any], share: int = 1) -> Record:
    """One batch line, its words parsed by the command's own declarations, run through the
    command's own request and service: a record with its verdict. ``share``: lines run at
    once; without --max-memory each gets that share of the default."""
    request = request_of(name, params, share)
    if name == "check":
        result = do_check(request, bool(params.get("hessian")))
        if isinstance(result, HessianCheck):
            from .hessians import check_record as hessian_record

            return hessian_record(result)
        return check_record(result)
    if name == "hessian":
        from ..api.pipeline import hessian

        saved = hessian(request)
        h = saved.hessian
        return {"verdict": "ok", "kind": "hessian", "expression": to_text(h.problem.expr), "wrt": list(h.problem.wrt),
                "formula": h.formula, "shape": json_sizes(h.shape), "output": params["output"],
                **({"warnings": list(saved.warnings)} if saved.warnings else {})}  # fmt: skip
    if params.get("direction") or params.get("differential"):
        raise JacliError("--differential and --direction are not batch lines: run them as commands")
    d = do_derive(request)
    r = d.result
    record = {
        "verdict": "ok",
        "expression": r.expression,
        "wrt": [b.var for b in r.blocks],
        "formula": r.formula,
        "shape": json_sizes(r.shape),
        "output": d.wrote,
    }
    if d.warnings:
        record["warnings"] = list(d.warnings)
    if params["gradient"]:
        record["gradient_formula"] = r.gradient_formula
    return record


MAX_LINE = 65_536  # characters in one line; a longer line is a bad line
MAX_FILE = 64 * 2**20  # bytes in a batch file; a larger one is refused
_READ = 2**20  # bytes read at a time

TOO_DEEP = "the expression is nested too deeply or is too long for jacli"


def line_words(line: str) -> list[str]:
    """A line's words as the shell splits them: quotes, and a trailing ``# comment``
    dropped; a leading ``jacli`` (a line pasted from a shell) is skipped."""
    import shlex

    if len(line) > MAX_LINE:
        raise JacliError(f"the line is {len(line):,} characters long, over the limit of {MAX_LINE:,}")
    try:
        words = shlex.split(line, comments=True)
    except ValueError as err:  # unbalanced quotes
        raise JacliError(f"cannot split the line: {err}") from None
    if words and words[0] == "jacli":
        words = words[1:]
    for w in words[1:]:
        if w == "--format" or w.startswith("--format="):
            raise JacliError("--format belongs to the batch, not to a line: jacli batch FILE --format json")
    return words


def record(number: int, line: str, parse_line: LineParser, share: int = 1) -> tuple[Record, bool]:
    """The record of one line, and whether it hit a bug."""
    try:
        result = run_line(*parse_line(line_words(line)), share=share)
        rec, bug = result, False
    except JacliError as err:
        rec, bug = {"verdict": "error", "error": wording(err)}, False
    except RecursionError:  # as on the command line: bad input, not a bug
        rec, bug = {"verdict": "error", "error": TOO_DEEP}, False
    except MemoryError:
        rec, bug = {"verdict": "error", "error": "out of memory; lower --max-memory or run the line alone"}, False
    except Exception as err:
        rec, bug = {"verdict": "error", "error": fit(f"internal error (a bug): {type(err).__name__}: {err}")}, True
    return {"line": number, "command": line, **rec}, bug


def _record_of(item: tuple[int, str], parse_line: LineParser, share: int) -> tuple[Record, bool]:
    try:
        return record(item[0], item[1], parse_line, share)
    except SystemExit as stop:  # the batch stopping this worker (_leave): the line's temporary files are gone
        import os

        os._exit(stop.code if isinstance(stop.code, int) else 1)


def _quiet_worker() -> None:
    """A worker leaves Ctrl-C to the batch, which stops the pool; SIGTERM and SIGHUP (the
    batch stopping it) end it quietly, its temporary files removed on the way."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    for name in ("SIGTERM", "SIGHUP"):
        sig = getattr(signal, name, None)
        if sig is not None:
            signal.signal(sig, _leave)


def _leave(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)


MAX_JOBS_PER_CORE = 4


def jobs_count(jobs: int) -> int:
    """--jobs: N processes (at most :data:`MAX_JOBS_PER_CORE` per core), 0 for one per core."""
    from ..numeric.structured import usable_cores

    if jobs < 0:
        raise JacliError(f"--jobs must be 0 (one per core) or a positive number, not {jobs}")
    cores = usable_cores()
    if jobs > MAX_JOBS_PER_CORE * cores:
        sys.stderr.write(f"jacli: warning: --jobs {jobs}: running {MAX_JOBS_PER_CORE * cores} ({cores} cores)\n")
        return MAX_JOBS_PER_CORE * cores
    return jobs or cores


def records(
    lines: list[tuple[int, str]], parse_line: LineParser, jobs: int
) -> Generator[tuple[Record, bool], None, None]:
    """The lines' records in the order of the lines: in this process, or in a pool of
    ``jobs`` processes started now, before any thread (each line run as it would be here,
    the results collected in order). Close the iterator to stop the pool early."""
    if jobs <= 1 or len(lines) < 2:
        return (record(number, line, parse_line) for number, line in lines)
    import functools
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    methods = multiprocessing.get_all_start_methods()
    ctx = multiprocessing.get_context("fork" if "fork" in methods else None)
    jobs = min(jobs, len(lines))
    run = functools.partial(_record_of, parse_line=parse_line, share=jobs)
    try:
        pool = ProcessPoolExecutor(jobs, mp_context=ctx, initializer=_quiet_worker)
        results = pool.map(run, lines, chunksize=max(1, min(16, len(lines) // (jobs * 8))))
    except (OSError, ImportError, NotImplementedError) as err:  # no process pool here (no semaphores, no fork)
        sys.stderr.write(f"jacli: warning: --jobs {jobs}: cannot start processes ({err}); running in one\n")
        return (record(number, line, parse_line) for number, line in lines)
    return _pooled(pool, results)


def _pooled(pool: Any, results: Iterator[tuple[Record, bool]]) -> Generator[tuple[Record, bool], None, None]:
    from concurrent.futures.process import BrokenProcessPool

    finished = False
    try:
        yield from results
        finished = True
    except BrokenProcessPool:
        raise JacliError(
            "a --jobs process ended abruptly (out of memory?); the lines after it were not run: "
            "run the batch with fewer --jobs or a lower --max-memory"
        ) from None
    finally:
        if finished:
            pool.shutdown(wait=True)
        else:
            _stop(pool)


def _stop(pool: Any) -> None:
    """Stop the workers now (Ctrl-C, an error, a closed iterator): SIGTERM, then SIGKILL."""
    processes = list((getattr(pool, "_processes", None) or {}).values())  # the executor has no public handle
    pool.shutdown(wait=False, cancel_futures=True)
    for p in processes:
        p.terminate()
    for p in processes:
        p.join(2)
        if p.is_alive():
            p.kill()
            p.join()


def run_batch(path: str, *, fmt: str, parse_line: LineParser, jobs: int = 1) -> int:
    """``parse_line(words) -> (command, params)`` is the command line's own parser."""
    import json

    jobs = jobs_count(jobs)
    text = read_batch(path)
    lines = [
        (i, line.strip())
        for i, line in enumerate(text.split("\n"), 1)  # lines end at newlines only, as a shell reads them
        if line.strip() and not line.lstrip().startswith("#")
    ]
    as_json = fmt == "json"
    counts = {"agree": 0, "disagree": 0, "ok": 0, "error": 0}
    bugs = 0
    start = time.perf_counter()
    results = records(lines, parse_line, jobs)  # the pool starts before the bar's thread
    with closing(results), LazyBar("batch", len(lines), enabled=None if not as_json else False) as bar:
        for rec, bug in results:
            bugs += bug
            counts[rec["verdict"]] += 1
            # sys.stdout at each write: the bar, once shown, prints through it (and a reader gone or
            # a full disk stops the printing, not the run: cli.reporting)
            sys.stdout.write((json_line(rec) if as_json else _batch_line(rec)) + "\n")
            bar.advance()
    seconds = time.perf_counter() - start
    if as_json:
        sys.stdout.write(json.dumps({"summary": {"lines": len(lines), **counts, "seconds": round(seconds, 3)}}) + "\n")
    else:
        parts = ", ".join(f"{v} {k}" for k, v in counts.items() if v)
        noun = "line" if len(lines) == 1 else "lines"
        sys.stdout.write(f"{len(lines)} {noun}: {parts or 'nothing to do'} ({seconds:.2f} s)\n")
    sys.stdout.flush()
    if bugs:
        return ExitCode.INTERNAL
    if counts["error"]:
        return ExitCode.BAD_INPUT
    return ExitCode.DISAGREE if counts["disagree"] else ExitCode.OK


def read_batch(path: str) -> str:
    """The batch file (or stdin for ``-``) as text: at most :data:`MAX_FILE` bytes of UTF-8
    without NUL bytes, read a piece at a time (so /dev/zero is refused at once)."""
    shown = "stdin" if path == "-" else path
    if path == "-":
        if sys.stdin is None:
            raise JacliError("stdin is closed: give the batch a file, or pipe lines into `jacli batch -`")
        stream = getattr(sys.stdin, "buffer", None)
        if stream is None:  # a text stream without bytes underneath
            return _checked(sys.stdin.read(MAX_FILE + 1).encode("utf-8", "surrogateescape"), shown)
        return _read_from(stream, shown)
    try:
        with open(path, "rb") as f:
            return _read_from(f, shown)
    except FileNotFoundError:
        raise JacliError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise JacliError(f"{path}: is a directory") from None
    except OSError as err:
        raise JacliError(f"{path}: cannot read ({err.strerror or err})") from None


def _read_from(stream: Any, shown: str) -> str:
    pieces, size = [], 0
    while True:
        try:
            piece = stream.read(_READ)
        except OSError as err:
            raise JacliError(f"{shown}: cannot read ({err.strerror or err})") from None
        if not piece:
            break
        if b"\0" in piece:
            raise JacliError(f"{shown}: not a text file (it holds NUL bytes)")
        size += len(piece)
        if size > MAX_FILE:
            raise JacliError(f"{shown}: more than {MAX_FILE // 2**20} MiB; split it into several batch files")
        pieces.append(piece)
    return _checked(b"".join(pieces), shown)


def _checked(data: bytes, shown: str) -> str:
    if b"\0" in data:
        raise JacliError(f"{shown}: not a text file (it holds NUL bytes)")
    if len(data) > MAX_FILE:
        raise JacliError(f"{shown}: more than {MAX_FILE // 2**20} MiB; split it into several batch files")
    try:
        return data.decode("utf-8").removeprefix("\ufeff")  # a byte order mark is no part of line 1
    except UnicodeDecodeError as err:
        line = data.count(b"\n", 0, err.start) + 1
        raise JacliError(f"{shown}: not UTF-8 text (line {line:,})") from None


def _batch_line(r: Record) -> str:
    head = f"{r['line']:>4}  {r['verdict']:<8}  {printable(r['command'])}"  # a line's escape sequences shown, not run
    if r["verdict"] == "error":
        return f"{head}\n      {printable(r['error'])}"
    if r["verdict"] == "ok":
        return f"{head}\n      {'H' if r.get('kind') == 'hessian' else 'J'} = {r['formula']}"
    where = f" at {r['where']}" if r.get("where") else ""
    notes = [c["note"] for c in r.get("comparisons", []) if c.get("note")]
    detail = notes[0] if notes else f"max abs diff {r['max_abs_diff']:.3g}, max rel diff {r['max_rel_diff']:.3g}{where}"
    return f"{head}\n      {detail}"
