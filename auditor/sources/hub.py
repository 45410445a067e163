"""A Hugging Face Hub repo: ``hf://ORG/NAME[@REVISION]``, ``hf://datasets/ORG/NAME[@REVISION]``.

Read through the real ``huggingface_hub`` client (imported only when a Hub
target is audited), at ``HF_ENDPOINT`` (read when the audit starts) with the
token the client finds (``HF_TOKEN``, else a saved login). The token goes into
the ``Authorization`` header and nowhere else: never into a message, a log line
or a report.

What it costs, per audit:

- **One request lists the repo.** Repo info with files metadata resolves the
  revision to a commit sha and gives every file's size and, for LFS files, its
  sha256, so no weight is downloaded for its checksum. Every file read after
  that is pinned to that sha (``resolve/<sha>/path``). When the Hub gives no
  sizes, the tree is listed instead (pages of 1,000).
- **Files are read with HTTP range requests, bounded per file.** Bytes are
  fetched once, as a growing prefix of the file kept in memory for the audit,
  so no byte range is fetched twice. Weight headers (safetensors, GGUF) are read
  during the inventory, up to ``header_budget`` bytes per weights file (8 MiB);
  a larger header is skipped with a note, and a weights file larger than the
  budget is never read again (the checksum stage gets an OSError, so a BOM keeps
  the Hub's LFS sha256 and has no sha1 for it). Any other file may be read up
  to ``file_budget`` bytes (10 MiB, the Hub's limit for a file kept in git
  rather than LFS): detectors read at most their text limit of it.
- **Only weights are examined.** Files named as weights, and big or LFS files
  whose name says nothing, get a bounded header read; the others are
  classified by name, so a repo of 10,000 files does not cost 10,000 requests.

Errors: a missing repo or revision, a gated or private repo without access,
rate limiting that outlasts the wait budget, or an unreachable Hub are
``SourceError`` (exit 3) with a one-line message; a malformed target is a
``UsageError``. One file that cannot be fetched (404, 5xx, timeout) is a
``Skipped`` entry and the audit goes on. HTTP 429 is retried after its
``Retry-After``, 5xx and timeouts with exponential backoff and jitter, all
within ``max_wait`` seconds per audit (the client itself does not retry the
repo info and file requests this module makes).
"""

from __future__ import annotations

import errno
import logging
import os
import random
import re
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

from auditor.classify import expected_format, kind_from_name
from auditor.errors import SourceError, UsageError
from auditor.model import FileEntry, FileKind, Inventory, Skipped
from auditor.sources import SOURCES, Source, entries_sorted, examine, os_reason
from auditor.weights import ReadAt, sniff

if TYPE_CHECKING:
    from huggingface_hub import HfApi

log = logging.getLogger(__name__)

T = TypeVar("T")
MIB = 1 << 20
PREFIX = "hf://"
_NAME = r"[A-Za-z0-9][A-Za-z0-9._-]{0,95}"
_TARGET = re.compile(
    rf"hf://(?:(?P<type>models|datasets|spaces)/)?(?P<repo>{_NAME}(?:/{_NAME})?)"
    r"(?:@(?P<rev>[^\s@]+))?"
)
#: Statuses worth asking again: rate limited, request timeout, server trouble.
RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
#: Kinds no detector reads: past the inventory, only their checksum would read them.
UNREAD_KINDS = frozenset({FileKind.WEIGHTS, FileKind.DATA, FileKind.OTHER})
#: Extensions of files that are never weights in disguise: not sniffed (a request each).
NOT_WEIGHTS = frozenset(
    """png jpg jpeg gif webp svg bmp tif tiff ico mp3 wav flac ogg m4a mp4 mov avi mkv webm
    pdf doc docx ppt pptx xls xlsx txt md json yaml yml xml html htm css zip gz tgz tar bz2
    xz zst 7z rar""".split()
)


def _size(n: int) -> str:
    return f"{n // MIB} MiB" if n >= MIB and n % MIB == 0 else f"{n // 1024} KiB"


def safe_name(path: str) -> bool:
    """Whether a listed name stays inside its repository."""
    parts = path.split("/")
    return bool(path) and not path.startswith("/") and all(p not in ("", ".", "..") for p in parts)


class HubError(SourceError):
    """A SourceError of a Hub repo, with ``kind`` saying what went wrong for programs
    (registry scans): "gated", "private", "missing", "rate-limited", "unreachable",
    "failed"."""

    def __init__(self, message: str, kind: str = "failed") -> None:
        super().__init__(message)
        self.kind = kind


class NotFetched(OSError):
    """A read past what this audit may download of a file."""

    def __init__(self, reason: str) -> None:
        super().__init__(errno.EFBIG, reason)


@dataclass
class HubStats:
    """What an audit cost: HTTP requests (retries included), bytes of file content
    received, retries, and seconds spent waiting before them."""

    requests: int = 0
    bytes: int = 0
    retries: int = 0
    waited: float = 0.0


@dataclass
class _Blob:
    """What is known and fetched of one file: a prefix of its bytes."""

    path: str
    size: int
    kind: FileKind
    #: Whether the inventory reads its header (weights).
    examine: bool
    #: How many bytes of the file may be fetched in all; reads past it raise NotFetched.
    limit: int
    #: Why reads past ``limit`` are refused, for the report.
    refusal: str
    readahead: int
    data: bytearray = field(default_factory=bytearray)
    #: The server sent fewer bytes than the listed size: the file ends here.
    short: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)


@dataclass(frozen=True)
class HubRepoInfo:
    """What repo info said, kept for callers (registry scans): the commit and its gating."""

    repo_id: str
    repo_type: str
    sha: str
    gated: str | bool
    private: bool
    files: tuple[tuple[str, int, str | None], ...]  # path, size, LFS sha256


@SOURCES.register("hub")
class HubSource(Source):
    """A repo on the Hugging Face Hub (or whatever ``HF_ENDPOINT`` points at)."""

    #: Bytes of a weights file read for its header (safetensors JSON, GGUF metadata).
    header_budget: int = 8 * MIB
    #: Bytes of any other file that may be read (text for detectors, checksums).
    file_budget: int = 10 * MIB
    #: First fetch of a file: enough for most safetensors headers and small texts.
    readahead: int = 64 * 1024
    #: Seconds for each HTTP request (connect, read) before it counts as timed out.
    timeout: float = 30.0
    #: Seconds an audit may spend waiting before retries (Retry-After, backoff).
    max_wait: float = 60.0
    #: Attempts per request, the first included.
    max_attempts: int = 6
    #: First backoff delay in seconds; doubled at each retry, capped, with jitter.
    backoff: float = 0.5
    max_backoff: float = 8.0

    def __init__(
        self,
        target: str,
        *,
        endpoint: str | None = None,
        token: str | None = None,
        **settings: float,
    ) -> None:
        match = _TARGET.fullmatch(target.strip().rstrip("/"))
        if match is None or ".." in match["repo"] or "--" in match["repo"]:
            raise UsageError(
                f"not a Hub target: {target!r} (expected hf://ORG/NAME[@REVISION] "
                "or hf://datasets/ORG/NAME[@REVISION])"
            )
        if match["type"] == "spaces":
            raise UsageError(f"Hub spaces are not audited: {target}")
        for name, value in settings.items():
            if name not in _SETTINGS:
                raise TypeError(f"unknown HubSource setting {name!r}")
            setattr(self, name, type(getattr(self, name))(value))
        self.target = target
        self.repo_id: str = match["repo"]
        self.repo_type = "dataset" if match["type"] == "datasets" else "model"
        #: The revision asked for; None is the repo's default branch.
        self.requested: str | None = match["rev"]
        self.root = PREFIX + ("datasets/" if self.repo_type == "dataset" else "") + self.repo_id
        self._endpoint = endpoint
        self.__token = token  # explicit token; never shown
        self.stats = HubStats()
        self.info: HubRepoInfo | None = None
        self._blobs: dict[str, _Blob] = {}
        self._inventory: Inventory | None = None
        self._lock = threading.Lock()
        self._client: tuple[HfApi, Any, dict[str, str], str] | None = None

    @classmethod
    def accepts(cls, target: str) -> bool:
        return target.startswith(PREFIX)

    # -- the client ------------------------------------------------------------

    def _connect(self) -> tuple[HfApi, Any, dict[str, str], str]:
        """HfApi, the library's HTTP session, request headers and the endpoint."""
        if self._client is None:
            from huggingface_hub import HfApi, constants, get_session
            from huggingface_hub.utils import build_hf_headers  # type: ignore[attr-defined]

            from auditor import __version__

            endpoint = (
                self._endpoint or os.environ.get("HF_ENDPOINT") or constants.ENDPOINT
            ).rstrip("/")
            headers = build_hf_headers(
                token=self.__token, library_name="auditor", library_version=__version__
            )
            auth = headers.get("authorization", "")
            self.__token = auth[7:] if auth.startswith("Bearer ") else None
            api = HfApi(
                endpoint=endpoint,
                token=self.__token or False,
                library_name="auditor",
                library_version=__version__,
            )
            session = get_session()
            if not hasattr(session, "stream"):
                raise SourceError("hf:// targets need huggingface_hub >= 1.0 (an httpx client)")
            self._client = (api, session, headers, endpoint)
        return self._client

    def _shown_endpoint(self) -> str:
        """The endpoint for messages, without any user:password part."""
        endpoint = self._connect()[3]
        parts = urlsplit(endpoint)
        host = parts.hostname or ""
        if parts.port:
            host = f"{host}:{parts.port}"
        return urlunsplit((parts.scheme, host, parts.path, "", ""))

    def _redact(self, text: str) -> str:
        token = self.__token
        return text.replace(token, "***") if token else text

    # -- retries -----------------------------------------------------------------

    def _call(self, fn: Callable[[], T]) -> T:
        """``fn()``, again after a 429 (its Retry-After), a 5xx or a timeout (backoff with
        jitter), while the audit's wait budget and the attempts last."""
        attempt = 1
        while True:
            with self._lock:
                self.stats.requests += 1
            try:
                return fn()
            except Exception as exc:
                delay = self._retry_delay(exc, attempt)
                if delay is None:
                    raise
                with self._lock:
                    if attempt >= self.max_attempts or self.stats.waited + delay > self.max_wait:
                        raise
                    self.stats.waited += delay
                    self.stats.retries += 1
                log.info(
                    "%s: %s, retrying in %.1f s (attempt %d)",
                    self.root,
                    _describe(exc),
                    delay,
                    attempt + 1,
                )
                time.sleep(delay)
                attempt += 1

    def _retry_delay(self, exc: Exception, attempt: int) -> float | None:
        status = _status(exc)
        if status is None and not _transient(exc):
            return None
        if status is not None and status not in RETRY_STATUSES:
            return None
        if status == 429:
            after = _retry_after(exc)
            if after is not None:
                return after
        base = min(self.max_backoff, self.backoff * 2.0 ** (attempt - 1))
        return base * random.uniform(0.5, 1.0)

    # -- listing -------------------------------------------------------------------

    def resolve(self) -> HubRepoInfo:
        """Ask the Hub once for the repo at the requested revision: its commit sha and
        files. ``inventory`` reuses the answer, so a caller that only wants to know
        whether the commit changed pays one request."""
        if self.info is not None:
            return self.info
        api = self._connect()[0]
        try:
            info = self._call(
                lambda: api.repo_info(
                    self.repo_id,
                    repo_type=self.repo_type,
                    revision=self.requested,
                    files_metadata=True,
                    timeout=self.timeout,
                )
            )
        except Exception as exc:
            raise self._repo_error(exc) from None
        sha = getattr(info, "sha", None)
        if not sha:
            raise SourceError(f"{self.root}: the Hub gave no commit for this revision")
        siblings = getattr(info, "siblings", None) or []
        files: list[tuple[str, int, str | None]] = []
        if any(s.size is None for s in siblings):
            files = self._list_tree(api, sha)
        else:
            files = [
                (s.rfilename, int(s.size or 0), s.lfs.sha256 if s.lfs else None) for s in siblings
            ]
        self.info = HubRepoInfo(
            self.repo_id,
            self.repo_type,
            sha,
            getattr(info, "gated", False) or False,
            bool(getattr(info, "private", False)),
            tuple(sorted(files)),
        )
        return self.info

    def _list_tree(self, api: HfApi, sha: str) -> list[tuple[str, int, str | None]]:
        """Sizes and LFS sha256 from the tree listing, when repo info had none.

        The client retries these requests itself (429, 5xx, timeouts), so they are
        not retried here again."""
        from huggingface_hub.hf_api import RepoFile

        with self._lock:
            self.stats.requests += 1
        try:
            return [
                (f.path, f.size, f.lfs.sha256 if f.lfs else None)
                for f in api.list_repo_tree(
                    self.repo_id, recursive=True, revision=sha, repo_type=self.repo_type
                )
                if isinstance(f, RepoFile)
            ]
        except Exception as exc:
            raise self._repo_error(exc) from None

    def inventory(self) -> Inventory:
        """The Hub's listing as entries. A name with ``..``, a leading ``/`` or empty
        parts is listed as not read: fetched, it would name another repo's file."""
        if self._inventory is not None:
            return self._inventory
        info = self.resolve()
        log.debug("%s at %s: %d files", self.root, info.sha, len(info.files))
        unsafe = {path for path, _, _ in info.files if not safe_name(path)}
        for path, size, sha256 in info.files:
            if path in unsafe:
                continue
            kind = kind_from_name(path)
            examined = self._examined(path, kind, size, sha256 is not None)
            self._blobs[path] = _Blob(
                path,
                size,
                kind,
                examine=examined,
                limit=self.header_budget if examined else 0,
                refusal=f"header larger than {_size(self.header_budget)}",
                readahead=MIB if expected_format(path) == "gguf" else self.readahead,
            )
        if info.gated:
            self._probe(info)
        files: list[FileEntry] = []
        skipped = [
            Skipped(path, "a name that leads out of the repository (.., /, empty parts): not read")
            for path in sorted(unsafe)
        ]
        self.progress.start("reading headers", len(info.files))
        for path, _, sha256 in info.files:
            self.progress.advance()
            if path in unsafe:
                continue
            blob = self._blobs[path]
            entry, problem = self._entry(blob, sha256)
            files.append(entry)
            if problem is not None:
                skipped.append(problem)
            self._settle(blob, entry.kind)
        f, s = entries_sorted(files, skipped)
        self._inventory = Inventory(root=self.root, revision=info.sha, files=f, skipped=s)
        return self._inventory

    def _examined(self, path: str, kind: FileKind, size: int, lfs: bool) -> bool:
        """Whether a file gets a header read: weights, and LFS or big files whose name
        says nothing (a GGUF without its extension); not images, documents, archives."""
        if kind is FileKind.WEIGHTS:
            return True
        ext = path.rsplit("/", 1)[-1].rpartition(".")[2].lower() if "." in path else ""
        return kind is FileKind.OTHER and (lfs or size >= MIB) and ext not in NOT_WEIGHTS

    def _entry(self, blob: _Blob, sha256: str | None) -> tuple[FileEntry, Skipped | None]:
        path, size = blob.path, blob.size
        if not blob.examine:
            return FileEntry(path, size, blob.kind, sha256), None
        try:
            entry, problem = examine(path, size, self._read_at(blob))
        except NotFetched:
            fmt = sniff(bytes(blob.data[:16]), size) if blob.data else None
            entry = FileEntry(path, size, blob.kind, format=fmt)
            problem = Skipped(path, f"weights header not fetched: {blob.refusal}")
        except OSError as exc:
            entry = FileEntry(path, size, blob.kind)
            problem = Skipped(path, f"cannot read: {os_reason(exc)}")
        if not entry.lfs and sha256:
            entry = replace(entry, sha256=sha256)
        return entry, problem

    def _settle(self, blob: _Blob, kind: FileKind) -> None:
        """What may be read of a file once the inventory is made."""
        budget = self.header_budget if kind is FileKind.WEIGHTS else self.file_budget
        with blob.lock:
            blob.kind = kind
            if blob.size <= budget:
                blob.limit = blob.size
            elif kind in UNREAD_KINDS:
                blob.limit = len(blob.data)
                what = "weights" if kind is FileKind.WEIGHTS else "file"
                blob.refusal = (
                    f"{what} of {blob.size} bytes not downloaded from the Hub "
                    "(only its first bytes are read)"
                )
            else:
                blob.limit = budget
                blob.refusal = f"only the first {_size(budget)} of a Hub file are read"
            blob.readahead = self.readahead

    def _probe(self, info: HubRepoInfo) -> None:
        """A gated repo: fail now, with a clear message, if this token has no access."""
        names = {p.lower(): p for p, _, _ in info.files}
        path = (
            names.get("readme.md") or min(info.files, key=lambda f: f[1], default=("", 0, None))[0]
        )
        if not path:
            return
        blob = self._blobs[path]
        saved = blob.limit
        blob.limit = max(saved, min(blob.size, self.readahead))
        try:
            self._read_at(blob)(0, 1)
        except OSError:
            pass  # a problem with this one file: reported when it is read
        finally:
            blob.limit = saved

    # -- reading ---------------------------------------------------------------------

    @contextmanager
    def reader(self, path: str) -> Iterator[ReadAt]:
        self.inventory()
        blob = self._blobs.get(path)
        if blob is None:
            raise FileNotFoundError(errno.ENOENT, "not in this Hub repo", path)
        yield self._read_at(blob)

    def _read_at(self, blob: _Blob) -> ReadAt:
        def read_at(offset: int, length: int) -> bytes:
            end = min(offset + length, blob.size)
            if offset < 0 or length < 0:
                raise ValueError("negative offset or length")
            if offset >= end:
                return b""
            with blob.lock:
                if end > len(blob.data) and not blob.short:
                    if end > blob.limit:
                        raise NotFetched(blob.refusal)
                    want = min(blob.size, blob.limit, max(end, len(blob.data) + blob.readahead))
                    self._fetch(blob, want)
                return bytes(blob.data[offset:end])

        return read_at

    def _fetch(self, blob: _Blob, end: int) -> None:
        """Append bytes [len(data), end) of the file to ``blob.data``."""
        from huggingface_hub import hf_hub_url

        _, session, headers, endpoint = self._connect()
        assert self.info is not None
        start = len(blob.data)
        url = hf_hub_url(
            self.repo_id,
            blob.path,
            repo_type=self.repo_type,
            revision=self.info.sha,
            endpoint=endpoint,
        )
        wanted = dict(headers)
        if start or end < blob.size:
            wanted["Range"] = f"bytes={start}-{end - 1}"

        def get() -> bytes:
            from huggingface_hub import hf_raise_for_status

            with session.stream("GET", url, headers=wanted, timeout=self.timeout) as resp:
                if resp.status_code >= 400:
                    resp.read()
                    hf_raise_for_status(resp)
                skip = start
                if resp.status_code == 206:
                    skip = start - _range_start(resp.headers.get("Content-Range"), start)
                elif resp.status_code != 200:
                    raise OSError(errno.EIO, f"unexpected HTTP {resp.status_code} from the Hub")
                out = bytearray()
                need = end - start
                for chunk in resp.iter_bytes():
                    if skip:
                        dropped = min(skip, len(chunk))
                        chunk, skip = chunk[dropped:], skip - dropped
                    out += chunk
                    if len(out) >= need:
                        break
                return bytes(out[:need])

        try:
            data = self._call(get)
        except Exception as exc:
            raise self._file_error(blob.path, exc) from None
        with self._lock:
            self.stats.bytes += len(data)
        blob.data += data
        if len(data) < end - start:
            blob.short = True

    # -- errors ------------------------------------------------------------------------

    def _access(self) -> str:
        if self.__token:
            return "the token in use (HF_TOKEN) has no access to it"
        return "set HF_TOKEN to a token that has access"

    def _repo_error(self, exc: Exception) -> Exception:
        """An error of the repo info request as a one-line SourceError (or UsageError)."""
        from huggingface_hub import errors

        where = self.root
        if isinstance(exc, errors.HFValidationError):
            return UsageError(f"not a valid Hub repo id: {self.repo_id!r}")
        if isinstance(exc, errors.GatedRepoError):
            return HubError(self._gated_message(), "gated")
        if isinstance(exc, errors.RevisionNotFoundError):
            return HubError(f"{where}: revision {self.requested!r} not found", "missing")
        if isinstance(exc, errors.RepositoryNotFoundError):
            # 401 is the Hub's answer to a request without a token that may see the repo.
            kind = "private" if _status(exc) == 401 else "missing"
            return HubError(f"{where}: repository not found, or private and {self._access()}", kind)
        if isinstance(exc, errors.DisabledRepoError):
            return HubError(f"{where}: access to this repository is disabled on the Hub", "missing")
        return HubError(f"{where}: {self._cause(exc)}", _kind(exc))

    def _gated_message(self) -> str:
        if self.__token:
            return (
                f"{self.root}: gated repo, and the token in use (HF_TOKEN) has not been granted "
                "access: request it on the repo's Hub page"
            )
        return (
            f"{self.root}: gated repo: set HF_TOKEN to a token that has been granted access "
            "(request it on the repo's Hub page)"
        )

    def _cause(self, exc: Exception) -> str:
        """A one-line description of a failed request, without secrets."""
        from huggingface_hub import errors

        status = _status(exc)
        if isinstance(exc, errors.OfflineModeIsEnabled):
            return "HF_HUB_OFFLINE is set, the Hub cannot be reached"
        if status == 429:
            after = _retry_after(exc)
            asked = f", retry after {after:.0f} s" if after is not None else ""
            waited = self.stats.waited
            return (
                f"rate limited by the Hub (HTTP 429{asked}), gave up after waiting {waited:.0f} s"
            )
        server = (getattr(exc, "server_message", None) or "").strip()
        if status == 401 and self.__token and "credentials" in server.lower():
            return "the Hub refused the token in use (HF_TOKEN): invalid credentials"
        if status == 401:
            return f"the Hub refused the request (HTTP 401): {self._access()}"
        if status == 403:
            return f"access denied by the Hub (HTTP 403): {self._access()}"
        if status is not None:
            first = self._redact(server.splitlines()[0][:200]) if server else ""
            return f"the Hub answered HTTP {status}" + (f" ({first})" if first else "")
        if _transient(exc):
            kind = "timed out" if "Timeout" in type(exc).__name__ else "connection failed"
            return f"cannot reach the Hub at {self._shown_endpoint()} ({kind})"
        return self._redact(f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}")

    def _file_error(self, path: str, exc: Exception) -> Exception:
        """An error reading one file: OSError (the file is skipped) or SourceError (the repo)."""
        from huggingface_hub import errors

        if isinstance(exc, NotFetched):
            return exc
        if isinstance(exc, errors.GatedRepoError):
            return HubError(self._gated_message(), "gated")
        if isinstance(exc, (errors.RevisionNotFoundError, errors.RepositoryNotFoundError)):
            return self._repo_error(exc)
        if isinstance(exc, errors.OfflineModeIsEnabled):
            return HubError(f"{self.root}: {self._cause(exc)}", "unreachable")
        status = _status(exc)
        if isinstance(exc, errors.RemoteEntryNotFoundError) or status == 404:
            return OSError(errno.EIO, "not found on the Hub (HTTP 404)")
        if status == 403:
            return PermissionError(errno.EACCES, "access denied by the Hub (HTTP 403)")
        if status is None and _transient(exc):
            if _unreachable(exc):  # the Hub, not this file: nothing more can be read
                return HubError(f"{self.root}: {self._cause(exc)}", "unreachable")
            if "Timeout" in type(exc).__name__:
                return OSError(errno.ETIMEDOUT, "timed out reading from the Hub")
            return OSError(errno.EIO, f"connection to the Hub failed ({type(exc).__name__})")
        if isinstance(exc, OSError) and not isinstance(exc, errors.HfHubHTTPError):
            return exc
        return OSError(errno.EIO, self._cause(exc))


_SETTINGS = frozenset(
    {
        "header_budget",
        "file_budget",
        "readahead",
        "timeout",
        "max_wait",
        "max_attempts",
        "backoff",
        "max_backoff",
    }
)


def _status(exc: Exception) -> int | None:
    response = getattr(exc, "response", None)
    status = getattr(response, "status_code", None)
    return status if isinstance(status, int) else None


def _transient(exc: Exception) -> bool:
    """A timeout or a network failure of the HTTP client (httpx or its fork)."""
    names = {cls.__name__ for cls in type(exc).__mro__}
    return bool(names & {"TimeoutException", "NetworkError", "RemoteProtocolError"})


def _kind(exc: Exception) -> str:
    """``HubError.kind`` of a failed request that is not about access or existence."""
    if _status(exc) == 429:
        return "rate-limited"
    if _unreachable(exc) or "Offline" in type(exc).__name__:
        return "unreachable"
    return "failed"


def _unreachable(exc: Exception) -> bool:
    """A connection that could not even be made (refused, no route, DNS)."""
    return any(cls.__name__ == "ConnectError" for cls in type(exc).__mro__)


def _retry_after(exc: Exception) -> float | None:
    response = getattr(exc, "response", None)
    value = getattr(response, "headers", {}).get("Retry-After") if response is not None else None
    try:
        return max(0.0, float(str(value))) if value is not None else None
    except ValueError:
        return None  # an HTTP date: back off instead


def _describe(exc: Exception) -> str:
    status = _status(exc)
    if status is not None:
        return f"HTTP {status}"
    return "timed out" if "Timeout" in type(exc).__name__ else type(exc).__name__


def _range_start(header: str | None, default: int) -> int:
    """First byte of a ``Content-Range: bytes a-b/size`` header."""
    match = re.match(r"\s*bytes\s+(\d+)-", header or "")
    return int(match[1]) if match else default
