"""A local stand-in for the Hugging Face Hub, for tests and benchmarks.

It serves in-memory repos over HTTP on 127.0.0.1 (an ephemeral port, one
thread per connection, HTTP/1.1 keep-alive) through the subset of the Hub API
that ``huggingface_hub`` 2.x uses, so the real client can be pointed at it with
``HF_ENDPOINT`` or ``HfApi(endpoint=...)``:

- repo info: ``GET /api/{models|datasets}/{repo_id}[/revision/{rev}]``, with
  ``sha``, ``private``, ``gated``, ``cardData`` and ``siblings`` (``rfilename``;
  with ``?blobs=true`` also ``size``, ``blobId`` and ``lfs: {sha256, size,
  pointerSize}``);
- tree listing: ``GET /api/{models|datasets}/{repo_id}/tree/{rev}[/{path}]``
  (``recursive``, ``expand``; pages of 1,000 entries, 50 with ``expand``,
  chained by a ``Link: <...>; rel="next"`` header as the Hub does);
- listing: ``GET /api/{models|datasets}?author=ORG&search=TEXT&limit=N`` as
  ``HfApi.list_models`` / ``list_datasets`` call it: repos of that author
  (namespace) whose id contains TEXT (case-insensitive), by id, private ones
  only for a token that may read them; pages of ``list_page_size`` (or
  ``limit``, if smaller) chained by ``Link: <...>; rel="next"``;
- file resolve: ``GET``/``HEAD /[datasets/]{repo_id}/resolve/{rev}/{path}``
  with ``X-Repo-Commit``, ``ETag``, ``X-Linked-Etag``/``X-Linked-Size`` for LFS
  files, ``Accept-Ranges``, ``Range`` -> 206 with ``Content-Range`` (416 when
  unsatisfiable);
- errors as the Hub sends them (``X-Error-Code``, ``X-Error-Message``, a JSON
  ``{"error": ...}`` body): 404 ``RepoNotFound`` / ``RevisionNotFound`` /
  ``EntryNotFound``; 401 ``RepoNotFound`` for a private repo without a token
  that may read it; 401 (no token) / 403 (a token without access)
  ``GatedRepo`` on the files of a gated repo (its info and tree stay public,
  as on the Hub); 429 with ``Retry-After`` for the first ``rate_limit``
  requests of a repo; forced statuses, 500s and delays per file, or a status
  for every request of a repo (``broken``).

Repos are plain values (``HubRepo``); the server indexes each revision once
when the repo is added (``put``), so a request is a few dict look-ups and a
thousand repos cost nothing per request. Commit shas are deterministic: the
sha1 of the repo id and its content listing. Every request is logged
(``HubServer.log``) for tests to assert on: which files were fetched, with
which ranges, how many bytes, with which ``Authorization`` header.

    with HubServer([HubRepo("acme/tiny", {"README.md": b"..."})]) as hub:
        monkeypatch.setenv("HF_ENDPOINT", hub.endpoint)
        ...
        assert hub.bytes_served("acme/tiny", "model.safetensors") <= 8 << 20

A registry of many repos, and a change to one of them between two scans:

    files = read_tree(materialize("example-model", tmp_path / "m"))
    hub = HubServer(HubRepo(f"org{i % 10}/model-{i}", files) for i in range(1000)).start()
    ...
    hub.put(HubRepo("org3/model-3", {**files, "LICENSE": b"..."}))  # a new commit sha
    hub.put(HubRepo("org4/model-4", files, gated="manual"))         # now gated
    hub.remove("org5/model-5")                                      # vanished
    hub.stop()

Indexing 1,000 small repos takes about 40 ms; the server answers some 700 repo
info requests a second to one client thread.
"""

from __future__ import annotations

import hashlib
import json
import socket
import threading
import time
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import parse_qs, unquote, urlencode, urlsplit

#: Extensions the Hub's default ``.gitattributes`` stores in Git LFS (a subset).
LFS_EXTENSIONS = frozenset(
    """7z arrow bin bz2 ckpt ftz gguf gz h5 joblib mlmodel model msgpack npy npz onnx ot
    parquet pb pickle pkl pt pth rar safetensors tar tflite tgz wasm xz zip zst""".split()
)
#: Files from this size on are LFS files whatever their name (the Hub refuses
#: larger files in plain git).
LFS_MIN_SIZE = 10 << 20
DATE = "2024-01-01T00:00:00.000Z"


@dataclass(frozen=True)
class HubRepo:
    """One repo of the fake Hub, with its branches.

    ``files`` is the default branch (``main``); ``revisions`` adds other
    branches or tags by name (a ``main`` key there replaces ``files``). Every
    revision can also be asked for by its commit sha (``HubServer.sha``).
    """

    repo_id: str
    files: Mapping[str, bytes] = field(default_factory=dict)
    revisions: Mapping[str, Mapping[str, bytes]] = field(default_factory=dict)
    kind: str = "model"  # or "dataset"
    default_branch: str = "main"
    #: False, or the Hub's gating mode ("auto", "manual"; True means "manual").
    gated: bool | str = False
    private: bool = False
    #: Tokens that may read this repo when it is private or gated.
    tokens: Collection[str] = ()
    card_data: Mapping[str, Any] | None = None
    #: The first ``rate_limit`` requests for this repo get 429 with ``Retry-After``.
    rate_limit: int = 0
    retry_after: int = 0
    #: An HTTP status (500, 503...) every request for this repo gets: the Hub failing on it.
    broken: int = 0
    #: path -> HTTP status every resolve of that file gets (404 says EntryNotFound).
    fail: Mapping[str, int] = field(default_factory=dict)
    #: path -> how many of the first resolves of that file get a 500.
    flaky: Mapping[str, int] = field(default_factory=dict)
    #: path -> seconds each resolve of that file waits before answering (timeouts).
    slow: Mapping[str, float] = field(default_factory=dict)
    #: Paths stored in Git LFS; None: decided by extension (LFS_EXTENSIONS) or size.
    lfs: Collection[str] | None = None
    #: False: repo info never gives file sizes, so a client has to list the tree.
    files_metadata: bool = True

    @classmethod
    def from_dir(cls, repo_id: str, root: Path, **kwargs: Any) -> HubRepo:
        """A repo holding every file under ``root`` (``.git`` left out)."""
        return cls(repo_id, read_tree(root), **kwargs)

    def is_lfs(self, path: str, data: bytes) -> bool:
        if self.lfs is not None:
            return path in self.lfs
        ext = PurePosixPath(path).suffix.lower().lstrip(".")
        return ext in LFS_EXTENSIONS or len(data) >= LFS_MIN_SIZE


def read_tree(root: Path) -> dict[str, bytes]:
    """path -> bytes of every regular file under ``root``, ``.git`` left out."""
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and ".git" not in p.relative_to(root).parts
    }


@dataclass(frozen=True)
class Blob:
    data: bytes
    oid: str  # git blob id (of the pointer file, for an LFS file)
    sha256: str | None  # LFS files only
    pointer_size: int = 0

    @property
    def etag(self) -> str:
        return f'"{self.sha256 or self.oid}"'


@dataclass(frozen=True)
class Revision:
    sha: str
    blobs: Mapping[str, Blob]
    #: directory ("" for the root) -> paths of its direct children (files and folders)
    children: Mapping[str, tuple[str, ...]]
    folders: frozenset[str]


def _git_oid(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data, usedforsecurity=False).hexdigest()


def _revision(repo: HubRepo, files: Mapping[str, bytes]) -> Revision:
    blobs: dict[str, Blob] = {}
    for path, data in files.items():
        if repo.is_lfs(path, data):
            sha256 = hashlib.sha256(data).hexdigest()
            pointer = (
                "version https://git-lfs.github.com/spec/v1\n"
                f"oid sha256:{sha256}\nsize {len(data)}\n"
            ).encode()
            blobs[path] = Blob(data, _git_oid(pointer), sha256, len(pointer))
        else:
            blobs[path] = Blob(data, _git_oid(data), None)
    listing = "".join(f"{p}\0{b.oid}\n" for p, b in sorted(blobs.items()))
    sha = hashlib.sha1(
        f"{repo.kind}/{repo.repo_id}\n{listing}".encode(), usedforsecurity=False
    ).hexdigest()
    children: dict[str, set[str]] = {}
    folders: set[str] = set()
    for path in blobs:
        parts = path.split("/")
        for i in range(len(parts)):
            parent = "/".join(parts[:i])
            child = "/".join(parts[: i + 1])
            children.setdefault(parent, set()).add(child)
            if i < len(parts) - 1:
                folders.add(child)
    return Revision(
        sha,
        blobs,
        {d: tuple(sorted(c)) for d, c in children.items()},
        frozenset(folders),
    )


@dataclass
class _Indexed:
    repo: HubRepo
    refs: dict[str, Revision]  # branch or tag name -> revision
    shas: dict[str, Revision]  # commit sha -> revision
    requests: int = 0  # for rate_limit
    resolves: dict[str, int] = field(default_factory=dict)  # path -> count, for flaky
    lock: threading.Lock = field(default_factory=threading.Lock)


def _index(repo: HubRepo) -> _Indexed:
    if repo.kind not in ("model", "dataset"):
        raise ValueError(f"repo kind must be model or dataset, not {repo.kind!r}")
    branches = {repo.default_branch: repo.files, **repo.revisions}
    refs = {name: _revision(repo, files) for name, files in branches.items()}
    return _Indexed(repo, refs, {r.sha: r for r in refs.values()})


@dataclass(frozen=True)
class Request:
    """One request the server answered."""

    method: str
    route: str  # "info", "tree", "resolve", "list" or "unknown"
    kind: str
    repo_id: str
    revision: str | None
    path: str | None
    status: int
    range: str | None
    #: Bytes of file content sent (resolve GETs only).
    bytes: int
    #: The Authorization header as received, None without one.
    authorization: str | None
    query: str = ""
    user_agent: str = ""
    #: ``time.monotonic()`` when the answer was sent.
    at: float = 0.0


class _Reply(Exception):
    """An HTTP answer, raised from anywhere in the handler."""

    def __init__(
        self,
        status: int,
        body: bytes = b"",
        headers: Mapping[str, str] | None = None,
        *,
        content_type: str = "application/json",
    ) -> None:
        super().__init__(status)
        self.status = status
        self.body = body
        self.headers = dict(headers or {})
        self.content_type = content_type


def _error(status: int, message: str, code: str | None = None, **headers: str) -> _Reply:
    extra = {"X-Error-Message": message, **headers}
    if code:
        extra["X-Error-Code"] = code
    return _Reply(status, json.dumps({"error": message}).encode(), extra)


class HubServer:
    """The fake Hub; a context manager that starts and stops it.

    ``put`` adds or replaces a repo (also while serving: a registry scan test
    changes one repo between two scans), ``remove`` deletes one.
    """

    def __init__(
        self,
        repos: Iterable[HubRepo] = (),
        *,
        tree_page_size: int = 1000,
        expanded_page_size: int = 50,
        list_page_size: int = 1000,
        log: bool = True,
    ) -> None:
        self._repos: dict[tuple[str, str], _Indexed] = {}
        for repo in repos:
            self.put(repo)
        self.tree_page_size = tree_page_size
        self.expanded_page_size = expanded_page_size
        self.list_page_size = list_page_size
        self.logging = log
        self.log: list[Request] = []
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- repos ---------------------------------------------------------------

    def put(self, repo: HubRepo) -> None:
        self._repos[(repo.kind, repo.repo_id)] = _index(repo)

    def remove(self, repo_id: str, kind: str = "model") -> None:
        self._repos.pop((kind, repo_id), None)

    def repo(self, repo_id: str, kind: str = "model") -> HubRepo:
        return self._repos[(kind, repo_id)].repo

    def sha(self, repo_id: str, revision: str | None = None, kind: str = "model") -> str:
        """The commit sha a revision name (default: the default branch) resolves to."""
        indexed = self._repos[(kind, repo_id)]
        return indexed.refs[revision or indexed.repo.default_branch].sha

    # -- lifecycle -----------------------------------------------------------

    @property
    def endpoint(self) -> str:
        if self._httpd is None:
            raise RuntimeError("the server is not running")
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> HubServer:
        handler = type("Handler", (_Handler,), {"hub": self})
        self._httpd = _Server(("127.0.0.1", 0), handler)
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> HubServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- the log -------------------------------------------------------------

    def requests(
        self,
        repo_id: str | None = None,
        path: str | None = None,
        *,
        route: str | None = None,
        kind: str | None = None,
    ) -> list[Request]:
        return [
            r
            for r in list(self.log)
            if (repo_id is None or r.repo_id == repo_id)
            and (path is None or r.path == path)
            and (route is None or r.route == route)
            and (kind is None or r.kind == kind)
        ]

    def bytes_served(self, repo_id: str, path: str, kind: str = "model") -> int:
        """Bytes of ``path``'s content sent so far, over every resolve GET."""
        return sum(r.bytes for r in self.requests(repo_id, path, route="resolve", kind=kind))

    def clear_log(self) -> None:
        self.log.clear()

    # -- answering -----------------------------------------------------------

    def _lookup(self, kind: str, segs: list[str]) -> tuple[_Indexed | None, str, list[str]]:
        """The repo named by the first one or two segments, its id, the rest."""
        if len(segs) >= 2 and (kind, f"{segs[0]}/{segs[1]}") in self._repos:
            return self._repos[(kind, f"{segs[0]}/{segs[1]}")], f"{segs[0]}/{segs[1]}", segs[2:]
        if segs and (kind, segs[0]) in self._repos:
            return self._repos[(kind, segs[0])], segs[0], segs[1:]
        keywords = ("revision", "tree", "resolve")
        if len(segs) >= 2 and segs[1] not in keywords:
            return None, f"{segs[0]}/{segs[1]}", segs[2:]
        return None, segs[0] if segs else "", segs[1:]


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that timed out and hung up is not news


def _truthy(values: list[str] | None) -> bool:
    return bool(values) and values[-1].lower() in ("1", "true", "yes")  # type: ignore[index]


class _Handler(BaseHTTPRequestHandler):
    hub: HubServer
    protocol_version = "HTTP/1.1"

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in separate writes: without this, Nagle's algorithm
        # and the client's delayed ACK add 40 ms to every keep-alive request.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self._answer(head=False)

    def do_HEAD(self) -> None:
        self._answer(head=True)

    def _answer(self, *, head: bool) -> None:
        url = urlsplit(self.path)
        segs = [unquote(s) for s in url.path.split("/")[1:]]
        query = parse_qs(url.query)
        auth = self.headers.get("Authorization")
        token = auth[7:] if auth and auth.lower().startswith("bearer ") else None
        record = {
            "route": "unknown",
            "kind": "model",
            "repo_id": "",
            "revision": None,
            "path": None,
            "range": self.headers.get("Range"),
        }
        try:
            reply = self._route(segs, query, token, record, head)
        except _Reply as r:
            reply = r
        # Logged before the answer goes out: a client that has its answer finds the
        # request in the log (logged after, a test could look before the append).
        if self.hub.logging:
            self.hub.log.append(
                Request(
                    method=self.command,
                    status=reply.status,
                    bytes=0 if head or record["route"] != "resolve" else len(reply.body),
                    authorization=auth,
                    query=url.query,
                    user_agent=self.headers.get("User-Agent", ""),
                    at=time.monotonic(),
                    **record,  # type: ignore[arg-type]
                )
            )
        self._send(reply, head)

    def _send(self, reply: _Reply, head: bool) -> None:
        self.send_response(reply.status)
        self.send_header("Content-Type", reply.content_type)
        self.send_header("Content-Length", str(len(reply.body)))
        for key, value in reply.headers.items():
            self.send_header(key, value)
        self.end_headers()
        if not head:
            self.wfile.write(reply.body)

    def _route(
        self,
        segs: list[str],
        query: dict[str, list[str]],
        token: str | None,
        record: dict[str, Any],
        head: bool,
    ) -> _Reply:
        hub = self.hub
        if len(segs) == 2 and segs[0] == "api" and segs[1] in ("models", "datasets"):
            record.update(route="list", kind=segs[1][:-1])
            return self._list(segs[1][:-1], query, token)
        if len(segs) >= 3 and segs[0] == "api" and segs[1] in ("models", "datasets"):
            kind = segs[1][:-1]
            indexed, repo_id, rest = hub._lookup(kind, segs[2:])
            record.update(kind=kind, repo_id=repo_id)
            if not rest:
                record["route"] = "info"
                rev_name = None
            elif rest[0] == "revision" and len(rest) == 2:
                record["route"] = "info"
                rev_name = rest[1]
            elif rest[0] == "tree" and len(rest) >= 2:
                record["route"] = "tree"
                rev_name = rest[1]
                record["path"] = "/".join(rest[2:])
            else:
                raise _error(404, "Sorry, we can't find the page you are looking for.")
            revision = self._check(indexed, repo_id, rev_name, token, record)
            assert indexed is not None
            if record["route"] == "info":
                return self._info(indexed, revision, _truthy(query.get("blobs")))
            return self._tree(indexed, revision, record["path"], query)
        kind = "dataset" if segs and segs[0] == "datasets" else "model"
        body = segs[1:] if kind == "dataset" else segs
        record["kind"] = kind
        if "resolve" not in body:
            raise _error(404, "Sorry, we can't find the page you are looking for.")
        i = body.index("resolve")
        indexed, repo_id, rest = hub._lookup(kind, body[:i])
        record.update(route="resolve", repo_id=repo_id)
        if rest or len(body) < i + 3:
            raise _error(404, "Sorry, we can't find the page you are looking for.")
        rev_name, path = body[i + 1], "/".join(body[i + 2 :])
        record["path"] = path
        revision = self._check(indexed, repo_id, rev_name, token, record)
        assert indexed is not None
        return self._resolve(indexed, revision, path, token, head)

    def _check(
        self,
        indexed: _Indexed | None,
        repo_id: str,
        rev_name: str | None,
        token: str | None,
        record: dict[str, Any],
    ) -> Revision:
        """The revision asked for, after the repo-level checks: exists, rate, private."""
        if indexed is None:
            raise _error(404, "Repository not found", "RepoNotFound")
        repo = indexed.repo
        with indexed.lock:
            indexed.requests += 1
            limited = indexed.requests <= repo.rate_limit
        if repo.broken:
            raise _error(repo.broken, f"Internal Error ({repo.broken})")
        if limited:
            raise _error(
                429,
                "You have exceeded our hourly quotas for action: resolve.",
                **{"Retry-After": str(repo.retry_after)},
            )
        if repo.private and token not in repo.tokens:
            raise _error(401, "Invalid username or password.", "RepoNotFound")
        name = rev_name or repo.default_branch
        record["revision"] = name
        revision = indexed.refs.get(name) or indexed.shas.get(name)
        if revision is None:
            raise _error(404, f"Invalid rev id: {name}", "RevisionNotFound")
        return revision

    def _list(self, kind: str, query: dict[str, list[str]], token: str | None) -> _Reply:
        author = (query.get("author") or [""])[-1]
        search = (query.get("search") or [""])[-1].lower()
        expand = set(query.get("expand") or [])
        try:
            limit = int((query.get("limit") or ["0"])[-1])
            start = int((query.get("cursor") or ["0"])[-1])
        except ValueError:
            raise _error(400, "limit and cursor must be integers") from None
        repos = sorted(
            (i.repo for (k, _), i in list(self.hub._repos.items()) if k == kind),
            key=lambda r: r.repo_id,
        )
        found = [
            r
            for r in repos
            if (not author or r.repo_id.split("/")[0] == author)
            and search in r.repo_id.lower()
            and (not r.private or token in r.tokens)
        ]
        size = min(limit, self.hub.list_page_size) if limit > 0 else self.hub.list_page_size
        page = [
            {
                "_id": hashlib.sha1(r.repo_id.encode(), usedforsecurity=False).hexdigest()[:24],
                "id": r.repo_id,
                **({"modelId": r.repo_id} if kind == "model" else {}),
                "private": r.private,
                "downloads": 0,
                "likes": 0,
                "tags": [],
                "createdAt": DATE,
                **(
                    {"sha": self.hub.sha(r.repo_id, kind=kind)}
                    if "sha" in expand and not r.private
                    else {}
                ),
                **({"gated": r.gated or False} if "gated" in expand else {}),
            }
            for r in found[start : start + size]
        ]
        headers = {}
        if start + size < len(found):
            params = {k: v for k, v in query.items() if k != "cursor"}  # repeated keys kept
            params["cursor"] = [str(start + size)]
            nxt = f"http://{self.headers['Host']}/api/{kind}s?{urlencode(params, doseq=True)}"
            headers["Link"] = f'<{nxt}>; rel="next"'
        return _Reply(200, json.dumps(page).encode(), headers)

    def _info(self, indexed: _Indexed, revision: Revision, blobs: bool) -> _Reply:
        repo = indexed.repo
        siblings: list[dict[str, Any]] = []
        for path, blob in sorted(revision.blobs.items()):
            sib: dict[str, Any] = {"rfilename": path}
            if blobs and repo.files_metadata:
                sib.update(size=len(blob.data), blobId=blob.oid)
                if blob.sha256:
                    sib["lfs"] = {
                        "sha256": blob.sha256,
                        "size": len(blob.data),
                        "pointerSize": blob.pointer_size,
                    }
            siblings.append(sib)
        gated: bool | str = "manual" if repo.gated is True else repo.gated
        data: dict[str, Any] = {
            "_id": revision.sha[:24],
            "id": repo.repo_id,
            "author": repo.repo_id.split("/")[0] if "/" in repo.repo_id else None,
            "sha": revision.sha,
            "lastModified": DATE,
            "createdAt": DATE,
            "private": repo.private,
            "gated": gated,
            "disabled": False,
            "tags": [],
            "downloads": 0,
            "likes": 0,
            "siblings": siblings,
        }
        if repo.kind == "model":
            data["modelId"] = repo.repo_id
        if repo.card_data is not None:
            data["cardData"] = dict(repo.card_data)
        if blobs and repo.files_metadata:
            data["usedStorage"] = sum(len(b.data) for b in revision.blobs.values())
        return _Reply(200, json.dumps(data).encode())

    def _tree_entry(self, revision: Revision, path: str, expand: bool) -> dict[str, Any]:
        if path in revision.folders:
            oid = hashlib.sha1(
                "".join(revision.children.get(path, ())).encode(), usedforsecurity=False
            ).hexdigest()
            entry: dict[str, Any] = {"type": "directory", "oid": oid, "size": 0, "path": path}
        else:
            blob = revision.blobs[path]
            entry = {"type": "file", "oid": blob.oid, "size": len(blob.data), "path": path}
            if blob.sha256:
                entry["lfs"] = {
                    "oid": blob.sha256,
                    "size": len(blob.data),
                    "pointerSize": blob.pointer_size,
                }
        if expand:
            entry["lastCommit"] = {"id": revision.sha, "title": "Upload", "date": DATE}
        return entry

    def _tree(
        self, indexed: _Indexed, revision: Revision, path: str, query: dict[str, list[str]]
    ) -> _Reply:
        if path and path not in revision.folders:
            raise _error(404, f"{path} does not exist on {revision.sha}", "EntryNotFound")
        recursive = _truthy(query.get("recursive"))
        expand = _truthy(query.get("expand"))
        paths: list[str] = []
        stack = [path]
        while stack:
            folder = stack.pop()
            for child in revision.children.get(folder, ()):
                paths.append(child)
                if recursive and child in revision.folders:
                    stack.append(child)
        paths.sort()
        size = self.hub.expanded_page_size if expand else self.hub.tree_page_size
        start = int((query.get("cursor") or ["0"])[-1])
        page = [self._tree_entry(revision, p, expand) for p in paths[start : start + size]]
        headers = {}
        if start + size < len(paths):
            url = urlsplit(self.path)
            params = f"recursive={str(recursive).lower()}&expand={str(expand).lower()}"
            nxt = f"http://{self.headers['Host']}{url.path}?{params}&cursor={start + size}"
            headers["Link"] = f'<{nxt}>; rel="next"'
        return _Reply(200, json.dumps(page).encode(), headers)

    def _resolve(
        self, indexed: _Indexed, revision: Revision, path: str, token: str | None, head: bool
    ) -> _Reply:
        repo = indexed.repo
        if repo.gated and token not in repo.tokens:
            what = f"{repo.kind} {repo.repo_id}"
            if token is None:
                raise _error(
                    401,
                    f"Access to {what} is restricted. You must have access to it and be "
                    "authenticated to access it. Please log in.",
                    "GatedRepo",
                )
            raise _error(
                403,
                f"Access to {what} is restricted and you are not in the authorized list. "
                f"Visit https://huggingface.co/{repo.repo_id} to ask for access.",
                "GatedRepo",
            )
        blob = revision.blobs.get(path)
        if blob is None:
            raise _error(404, "Entry not found", "EntryNotFound")
        if path in repo.slow:
            time.sleep(repo.slow[path])
        if path in repo.fail:
            status = repo.fail[path]
            if status == 404:
                raise _error(404, "Entry not found", "EntryNotFound")
            raise _error(status, f"error {status}")
        if path in repo.flaky:
            with indexed.lock:
                n = indexed.resolves[path] = indexed.resolves.get(path, 0) + 1
            if n <= repo.flaky[path]:
                raise _error(
                    500, "Internal Error - We're working hard to fix this as soon as possible!"
                )
        size = len(blob.data)
        headers = {
            "Accept-Ranges": "bytes",
            "ETag": blob.etag,
            "X-Repo-Commit": revision.sha,
        }
        if blob.sha256:
            headers["X-Linked-Etag"] = blob.etag
            headers["X-Linked-Size"] = str(size)
        wanted = _range(self.headers.get("Range"), size)
        if wanted is None:
            return _Reply(200, blob.data, headers, content_type="application/octet-stream")
        if wanted == (-1, -1):
            raise _Reply(416, b"", {**headers, "Content-Range": f"bytes */{size}"})
        start, end = wanted
        headers["Content-Range"] = f"bytes {start}-{end}/{size}"
        return _Reply(
            206, blob.data[start : end + 1], headers, content_type="application/octet-stream"
        )


def _range(header: str | None, size: int) -> tuple[int, int] | None:
    """(first, last) byte of a single ``bytes=`` range; None to send the whole file;
    (-1, -1) when unsatisfiable."""
    if not header or not header.strip().lower().startswith("bytes=") or "," in header:
        return None
    spec = header.split("=", 1)[1].strip()
    first, _, last = spec.partition("-")
    try:
        if not first:
            n = int(last)
            return (max(0, size - n), size - 1) if n > 0 and size else (-1, -1)
        start = int(first)
        end = min(int(last), size - 1) if last else size - 1
    except ValueError:
        return None
    if start >= size or end < start:
        return (-1, -1)
    return start, end


def isolate_client(monkeypatch: Any, tmp_path: Path, max_wait: float = 5.0) -> None:
    """Point-blank tests: no token, telemetry or offline mode from the developer's
    machine reaches the real client, and HubSource retries fast."""
    from huggingface_hub import constants

    from auditor.sources.hub import HubSource

    for name in ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "HF_HUB_OFFLINE", "HF_OIDC_RESOURCE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HF_HUB_DISABLE_TELEMETRY", "1")
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(constants, "HF_TOKEN_PATH", str(tmp_path / "no-token"))
    monkeypatch.setattr(constants, "HF_STORED_TOKENS_PATH", str(tmp_path / "no-tokens"))
    monkeypatch.setattr(HubSource, "backoff", 0.01)
    monkeypatch.setattr(HubSource, "max_wait", max_wait)
