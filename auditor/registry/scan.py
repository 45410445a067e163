"""Registry scans: many Hub repos audited at their current commit, into the registry database.

A scan is a loop over ``run_audit`` (docs/registry.md), not an engine of its own:

- **One request tells whether a repo changed.** ``HubSource.resolve()`` asks the Hub
  for the repo's commit sha (and its file list, reused by the audit). When the sha
  is the revision of the repo's last successful audit (``RegistryDB.last_good``) the
  repo is recorded ``unchanged`` and nothing else is fetched; otherwise
  ``run_audit`` reads its text files and weight headers and the repo is recorded
  ``audited``. A gated repo is always audited again: access can be withdrawn
  without a new commit, and only reading a file tells.
- **Errors are records.** A gated, private or vanished repo is recorded as such
  (``HubError.kind``); any other error as ``failed`` with its one-line message (the
  token never appears in one). A failed repo has no good audit at its sha, so the
  next scan tries it again. One repo's error never stops the scan.
- **Bounded concurrency, one writer.** ``jobs`` repos are audited at once on threads
  (``executor="threads"``) or on a Dask cluster (``executor="dask"``); the results
  come back to the calling thread, which alone writes the database.
- **Rate limits are shared.** A 429's ``Retry-After`` closes a gate that every audit
  of this process waits at before its next request, so N threads do not each spend
  their own request against a limit that is the same for all of them.
- **Resumable.** ``RegistryDB.begin_scan`` returns the scan a killed process left
  ``running`` when the same scan is started again; the repos it recorded are skipped.

``audit_repo`` is the unit of work: a plain function of plain data, so that Dask can
send it to a worker, where it builds the ``HubSource`` (which is not picklable).
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

from auditor.errors import AuditorError, SourceError, UsageError
from auditor.model import AuditResult
from auditor.sources.hub import HubError, HubSource, _status

if TYPE_CHECKING:
    from auditor.registry.db import RegistryDB

log = logging.getLogger(__name__)

T = TypeVar("T")
EXECUTORS = ("threads", "dask")
DEFAULT_JOBS = 4
#: Error kinds that are worth another try in the same scan (``retry_failed``).
TRANSIENT = frozenset({"rate-limited", "unreachable", "failed-transient"})
#: HubError kinds recorded as a status of their own; every other error is "failed".
STATUS_OF_KIND = {"gated": "gated", "private": "private", "missing": "missing"}


# -- the unit of work ----------------------------------------------------------------------


@dataclass(frozen=True)
class AuditSpec:
    """How each repo is audited, as plain data (it is sent to Dask workers).

    ``endpoint`` None means the worker's ``HF_ENDPOINT`` (else the public Hub);
    ``settings`` are ``HubSource`` settings (``max_wait``, ``backoff``, ...).
    The token is never part of it: each worker uses its own ``HF_TOKEN``."""

    endpoint: str | None = None
    settings: tuple[tuple[str, float], ...] = ()
    deep: bool = False


@dataclass(frozen=True)
class Outcome:
    """What auditing one repo gave: a status of ``registry.db.STATUSES``, the commit
    sha, the one-line error, the audit (status ``audited`` only), and ``kind``, the
    error's kind (``HubError.kind``; "" without error)."""

    repo_id: str
    status: str
    revision: str | None = None
    error: str | None = None
    result: AuditResult | None = None
    kind: str = ""
    seconds: float = 0.0

    @property
    def transient(self) -> bool:
        return self.status == "failed" and self.kind in TRANSIENT


class _Gate:
    """Closed for a while after a 429: every request of this process waits it out."""

    def __init__(self) -> None:
        self._until = 0.0
        self._lock = threading.Lock()

    def close_for(self, seconds: float) -> None:
        with self._lock:
            self._until = max(self._until, time.monotonic() + seconds)

    def wait(self) -> float:
        waited = 0.0
        while True:
            with self._lock:
                delay = self._until - time.monotonic()
            if delay <= 0:
                return waited
            time.sleep(min(delay, 1.0))
            waited += min(delay, 1.0)


#: One gate per process (a Dask worker process has its own).
GATE = _Gate()


class ScanSource(HubSource):
    """A HubSource whose requests wait at the process's rate-limit gate, and whose
    429s close it for their Retry-After (or backoff) delay."""

    def _call(self, fn: Callable[[], T]) -> T:
        def gated() -> T:
            GATE.wait()
            return fn()

        return super()._call(gated)

    def _retry_delay(self, exc: Exception, attempt: int) -> float | None:
        delay = super()._retry_delay(exc, attempt)
        if delay is not None and _status(exc) == 429:
            GATE.close_for(delay)
        return delay


def hub_target(repo_id: str) -> str:
    return f"hf://{repo_id}"


def audit_repo(repo_id: str, last_good: str | None, spec: AuditSpec) -> Outcome:
    """Audit one repo unless its commit is ``last_good``; never raises (but for
    KeyboardInterrupt and the like): every error is an Outcome."""
    from auditor.pipeline import Options, run_audit

    started = time.monotonic()

    def done(status: str, **kw: Any) -> Outcome:
        return Outcome(repo_id, status, seconds=time.monotonic() - started, **kw)

    revision: str | None = None
    try:
        settings: dict[str, Any] = dict(spec.settings)
        source = ScanSource(hub_target(repo_id), endpoint=spec.endpoint, **settings)
        info = source.resolve()
        revision = info.sha
        if info.sha == last_good and not info.gated:
            return done("unchanged", revision=info.sha)
        result = run_audit(source, Options(deep=spec.deep))
        return done("audited", revision=info.sha, result=result)
    except HubError as exc:
        status = STATUS_OF_KIND.get(exc.kind, "failed")
        kind = exc.kind
        if kind == "failed" and _transient_message(str(exc)):
            kind = "failed-transient"
        return done(status, revision=revision, error=_one_line(exc), kind=kind)
    except (AuditorError, OSError) as exc:
        kind = "usage" if isinstance(exc, UsageError) else "failed"
        return done("failed", revision=revision, error=_one_line(exc), kind=kind)
    except Exception as exc:  # a bug on one repo must not stop the scan
        log.debug("%s: unexpected error", repo_id, exc_info=True)
        what = f"{type(exc).__name__}: {exc}"
        return done("failed", revision=revision, error=_one_line(what), kind="failed")


def audit_repos(tasks: Sequence[Task], spec: AuditSpec) -> list[Outcome]:
    """``audit_repo`` for each task, one after the other: a Dask task of a few repos,
    so that the cluster's per-task overhead (milliseconds) is paid once for them."""
    return [audit_repo(repo_id, good, spec) for repo_id, good in tasks]


def _transient_message(message: str) -> bool:
    """A failure the Hub may not repeat: HTTP 5xx, a timeout, a dropped connection."""
    return (
        any(f"HTTP {s}" in message for s in (500, 502, 503, 504))
        or "timed out" in message
        or "cannot reach the Hub" in message
    )


def _one_line(exc: BaseException | str) -> str:
    text = str(exc).strip()
    return (text.splitlines()[0] if text else type(exc).__name__)[:500]


# -- executors -----------------------------------------------------------------------------

Task = tuple[str, "str | None"]  # repo id, last good revision


def _on_threads(tasks: Iterator[Task], spec: AuditSpec, jobs: int) -> Iterator[Outcome]:
    """Outcomes as they complete; at most ``jobs`` audits at once, tasks pulled lazily
    (in the calling thread) as slots free up."""
    pool = ThreadPoolExecutor(max_workers=jobs, thread_name_prefix="auditor-scan")
    pending: set[Future[Outcome]] = set()
    try:
        while True:
            for repo_id, good in _take(tasks, jobs - len(pending)):
                pending.add(pool.submit(audit_repo, repo_id, good, spec))
            if not pending:
                return
            finished, _ = wait(pending, return_when=FIRST_COMPLETED)
            for fut in finished:
                pending.discard(fut)
                yield fut.result()
    finally:
        pool.shutdown(wait=False, cancel_futures=True)


def _take(tasks: Iterator[Task], n: int) -> list[Task]:
    out: list[Task] = []
    if n <= 0:
        return out
    for task in tasks:
        out.append(task)
        if len(out) >= n:
            break
    return out


#: Repos per Dask task.
DASK_BATCH = 16


def _on_dask(
    tasks: Iterator[Task], spec: AuditSpec, jobs: int | None, scheduler: str | None
) -> Iterator[Outcome]:
    """Outcomes from a Dask cluster, as they complete: the scheduler at ``scheduler``,
    else a LocalCluster of worker processes started for this scan. Each Dask task
    audits up to ``DASK_BATCH`` repos (fewer when there are few to share out)."""
    try:
        import importlib

        # Typed as Any: dask.distributed's API is only partly annotated.
        dd: Any = importlib.import_module("distributed")
    except ImportError:
        raise UsageError(
            "--executor dask needs dask.distributed: pip install 'auditor[dask]'"
        ) from None
    cluster: Any = None
    try:
        if scheduler:
            client = dd.Client(scheduler, timeout="30s")
        else:
            n = jobs or DEFAULT_JOBS
            workers = max(1, min(n, os.cpu_count() or 1))
            cluster = dd.LocalCluster(
                n_workers=workers,
                threads_per_worker=max(1, -(-n // workers)),
                processes=True,
                dashboard_address=None,
            )
            client = dd.Client(cluster)
    except OSError as exc:
        where = scheduler or "a local cluster"
        raise SourceError(f"cannot connect to the Dask scheduler at {where}: {exc}") from None
    try:
        threads = sum(client.nthreads().values()) or 1
        # Tasks in flight: the worker threads bound how many run at once; the rest wait at
        # the scheduler, so that a worker never idles through a round trip to this client.
        # With --scheduler, --jobs is that bound itself (a shared cluster has other work).
        window = jobs if scheduler and jobs else max(256, 32 * threads)  # repos
        first = _take(tasks, window)
        # Four tasks for every thread before batching repos together.
        batch = max(1, min(DASK_BATCH, len(first) // (4 * threads)))
        names: dict[Any, list[str]] = {}

        def submit(chunk: list[Task]) -> Any:
            fut = client.submit(audit_repos, chunk, spec, pure=False)
            names[fut] = [t[0] for t in chunk]
            return fut

        # with_results: results are gathered as tasks finish, in the background, not by one
        # round trip to a worker per result.
        running = dd.as_completed(
            [submit(first[i : i + batch]) for i in range(0, len(first), batch)],
            with_results=True,
            raise_errors=False,
        )
        for fut, value in running:
            repo_ids = names.pop(fut)
            fut.release()
            chunk = _take(tasks, batch)
            if chunk:
                running.add(submit(chunk))
            if isinstance(value, list):
                yield from value
                continue
            for repo_id in repo_ids:  # the worker died (KilledWorker), the task was lost
                yield Outcome(repo_id, "failed", error=_one_line(f"dask: {value!r}"), kind="dask")
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


# -- the scan ------------------------------------------------------------------------------


@dataclass
class Progress:
    """Passed to the progress callback after each repo is recorded."""

    done: int  # repos recorded by this run (retries counted once)
    total: int  # repos to audit in this run
    outcome: Outcome


@dataclass
class ScanSummary:
    scan_id: int
    repos: int  # repos in the scan
    resumed: int  # repos a killed run of the same scan had already recorded
    counts: Counter[str] = field(default_factory=Counter)
    elapsed: float = 0.0
    #: Why the scan stopped before its end (the Hub unreachable), else "".
    stopped: str = ""

    @property
    def attempted(self) -> int:
        return sum(self.counts.values())

    @property
    def rate(self) -> float:
        return self.attempted / self.elapsed if self.elapsed > 0 else 0.0

    @property
    def nothing_audited(self) -> bool:
        """Repos were tried and none gave an answer about itself (all failed)."""
        return bool(self.stopped) or (
            self.attempted > 0 and self.counts["failed"] == self.attempted
        )

    def line(self) -> str:
        order = ("audited", "unchanged", "gated", "private", "missing", "failed")
        parts = [f"{self.counts[s]} {s}" for s in order if self.counts[s]]
        resumed = f" ({self.resumed} recorded before it was resumed)" if self.resumed else ""
        return (
            f"scan {self.scan_id}: {self.repos} repos{resumed}: "
            f"{', '.join(parts) or 'nothing to do'} in {self.elapsed:.1f} s "
            f"({self.rate:.1f} repos/s)"
        )


def shown_endpoint(endpoint: str | None) -> str:
    """The endpoint a scan talks to, without any user:password part."""
    if not endpoint:
        from huggingface_hub import constants

        endpoint = os.environ.get("HF_ENDPOINT") or constants.ENDPOINT
    parts = urlsplit(endpoint.rstrip("/"))
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


def scan_params(
    repo_ids: Sequence[str],
    *,
    author: str | None = None,
    search: str | None = None,
    datasets: bool = False,
    endpoint: str | None = None,
    deep: bool = False,
) -> dict[str, Any]:
    """What identifies a scan, for resuming it: the ids asked for by name (as a count and
    a digest: a million ids do not belong in a row), the listing query, the endpoint.
    A listing is asked again when a scan resumes; repos it recorded are not audited again."""
    ids = sorted(set(repo_ids))
    return {
        "ids": len(ids),
        "ids_sha256": hashlib.sha256("\n".join(ids).encode()).hexdigest() if ids else None,
        "author": author,
        "search": search,
        "datasets": datasets,
        "endpoint": shown_endpoint(endpoint),
        "deep": deep,
    }


def list_repos(
    *,
    author: str | None = None,
    search: str | None = None,
    datasets: bool = False,
    endpoint: str | None = None,
) -> list[str]:
    return sorted(
        list_repo_shas(author=author, search=search, datasets=datasets, endpoint=endpoint)
    )


def list_repo_shas(
    *,
    author: str | None = None,
    search: str | None = None,
    datasets: bool = False,
    endpoint: str | None = None,
) -> dict[str, str | None]:
    """Repo ids from the Hub's listing (``HfApi.list_models`` / ``list_datasets``),
    dataset ids as ``datasets/ORG/NAME``; SourceError when the Hub cannot list them."""
    from huggingface_hub import HfApi

    from auditor import __version__

    api = HfApi(
        endpoint=(endpoint or os.environ.get("HF_ENDPOINT") or None),
        library_name="auditor",
        library_version=__version__,
    )
    return listed_shas(api, author, search, datasets, endpoint)


#: Named repos of one organization from which a listing of it is worth it: one request
#: (a page per 1,000 repos) instead of one per repo.
LIST_ORG_FROM = 5


def named_shas(ids: Iterable[str], endpoint: str | None = None) -> dict[str, str | None]:
    """Commit shas of named repos, from a listing of each organization that has at
    least ``LIST_ORG_FROM`` of them; a listing that fails only costs the shortcut."""
    by_org: dict[str, set[str]] = {}
    for repo in ids:
        if "/" in repo and not repo.startswith(("datasets/", "spaces/")):
            by_org.setdefault(repo.split("/", 1)[0], set()).add(repo)
    known: dict[str, str | None] = {}
    for org, repos in sorted(by_org.items()):
        if len(repos) < LIST_ORG_FROM:
            continue
        try:
            listed = list_repo_shas(author=org, endpoint=endpoint)
        except SourceError as exc:
            log.info("%s: no listing (%s); asking about each repo", org, exc)
            continue
        known.update({r: sha for r, sha in listed.items() if r in repos})
    return known


def listed_shas(
    api: Any, author: str | None, search: str | None, datasets: bool, endpoint: str | None
) -> dict[str, str | None]:
    """Repo id -> the commit sha the listing gives (None for a gated repo, which is
    audited every run): with it, a re-scan knows which repos did not change without
    asking about each one."""
    try:
        if datasets:
            found = api.list_datasets(author=author, search=search, expand=["sha", "gated"])
            return {f"datasets/{d.id}": None if d.gated else d.sha for d in found}
        found = api.list_models(author=author, search=search, expand=["sha", "gated"])
        return {m.id: None if m.gated else m.sha for m in found}
    except Exception as exc:
        what = "datasets" if datasets else "models"
        status = _status(exc)
        cause = f"HTTP {status}" if status else type(exc).__name__
        raise SourceError(
            f"cannot list {what} on the Hub at {shown_endpoint(endpoint)} ({cause})"
        ) from None


def check_repo_id(repo_id: str) -> str:
    """``ORG/NAME`` or ``datasets/ORG/NAME`` (an ``hf://`` prefix is dropped); UsageError."""
    rid = repo_id.strip().removeprefix("hf://").rstrip("/")
    if "@" in rid:
        raise UsageError(f"{repo_id!r}: a registry scan audits the default branch, not a revision")
    if rid.startswith("models/"):
        rid = rid.removeprefix("models/")
    HubSource(hub_target(rid))  # raises UsageError for anything that is not a Hub repo id
    return rid


def read_ids(lines: Iterable[str]) -> list[str]:
    """Repo ids of a file: one a line, blank lines and ``#`` comments left out."""
    out = []
    for line in lines:
        text = line.split("#", 1)[0].strip()
        if text:
            out.append(text)
    return out


def scan(
    db: RegistryDB,
    repo_ids: Sequence[str],
    params: Mapping[str, Any],
    *,
    spec: AuditSpec | None = None,
    jobs: int | None = None,
    executor: str = "threads",
    scheduler: str | None = None,
    retry_failed: bool = True,
    progress: Callable[[Progress], None] | None = None,
    on_start: Callable[[int, int, int], None] | None = None,
    known: Mapping[str, str | None] | None = None,
) -> ScanSummary:
    """Audit ``repo_ids`` (each once, sorted) into ``db`` as the scan ``params`` names;
    resume that scan when a killed process left it running.

    ``retry_failed``: repos that failed for a reason that may pass (HTTP 429 past the
    wait budget, 5xx, timeouts, the Hub unreachable) are tried once more after the
    others, before their failure is recorded. ``on_start(scan_id, repos, resumed)``
    is called once the scan is known. ``known``: commit shas a Hub listing gave; a repo
    whose listed sha is its last good one is recorded unchanged without a request. The
    scan is finished ``complete`` (``failed``
    when no repo could be audited) unless the Hub could not be reached at all: then
    it stays ``running``, and running it again resumes it.
    """
    if executor not in EXECUTORS:
        raise UsageError(f"unknown executor {executor!r} (choose from {', '.join(EXECUTORS)})")
    if scheduler and executor != "dask":
        raise UsageError("--scheduler needs --executor dask")
    spec = spec or AuditSpec()
    ids = sorted(set(repo_ids))
    started = time.monotonic()
    scan_id = db.begin_scan(params)
    done = db.done_in_scan(scan_id)
    todo = [r for r in ids if r not in done]
    summary = ScanSummary(scan_id, len(ids), len(ids) - len(todo))
    if on_start is not None:
        on_start(scan_id, len(ids), summary.resumed)
    recorded = 0
    # The Hub unreachable for the first few repos, with nothing else heard: stop there,
    # recording none of them (a resumed scan tries them again).
    give_up_after = max(3, jobs or DEFAULT_JOBS)
    held: list[Outcome] = []
    heard = False

    def run(repos: list[str]) -> Iterator[Outcome]:
        tasks = ((r, db.last_good(r)) for r in repos)  # read here, in the writing thread
        if executor == "dask":
            return _on_dask(tasks, spec, jobs, scheduler)
        return _on_threads(tasks, spec, jobs or DEFAULT_JOBS)

    def record(outcome: Outcome) -> None:
        nonlocal recorded
        db.record(
            scan_id,
            outcome.repo_id,
            status=outcome.status,
            revision=outcome.revision,
            error=outcome.error,
            result=outcome.result,
        )
        recorded += 1
        summary.counts[outcome.status] += 1
        if progress is not None:
            progress(Progress(recorded, len(todo), outcome))

    again: list[str] = []

    def take(outcome: Outcome) -> None:
        if retry_failed and outcome.transient:
            again.append(outcome.repo_id)
        else:
            record(outcome)

    fresh = []
    for repo in todo:
        sha = (known or {}).get(repo)
        if sha is not None and sha == db.last_good(repo):
            record(Outcome(repo, "unchanged", revision=sha))
            heard = True
        else:
            fresh.append(repo)
    outcomes = run(fresh)
    try:
        for outcome in outcomes:
            if not heard and outcome.kind == "unreachable":
                held.append(outcome)
                if len(held) >= give_up_after:
                    summary.stopped = outcome.error or "the Hub cannot be reached"
                    break
                continue
            if not heard:
                heard = True
                for one in held:
                    take(one)
            take(outcome)
        else:
            for one in held if not heard else ():
                take(one)
    finally:
        close = getattr(outcomes, "close", None)
        if close is not None:
            close()
    if summary.stopped:
        summary.elapsed = time.monotonic() - started
        return summary  # left running: the next run resumes it
    if again:
        log.info("trying %d repos again", len(again))
        for outcome in run(sorted(again)):
            record(outcome)
    summary.elapsed = time.monotonic() - started
    db.finish_scan(scan_id, "failed" if summary.nothing_audited else "complete")
    return summary


def licenses_of(result: AuditResult) -> str:
    """The concluded licenses of an audit, for a log line: ``apache-2.0 / mit``."""
    return " / ".join(c.concluded or "unknown" for c in result.components) or "no components"
