"""The fake Gemini image-generation server (Nano Banana) for Python tests.

`MockServer.start()` runs the `nanobanana-mock` binary this wheel carries on a free loopback port
and talks to its admin API (`/__admin/...`, documented in the crate's ADMIN.md): the journal of
requests received, mounted faults, outcomes and expectations, reset and settings. The pytest
plugin (`nanobanana_mock.plugin`, loaded by pytest on its own) wraps it in fixtures.

    with MockServer.start() as server:
        server.mount(endpoint="generateContent", status=429, times=1)
        client = genai.Client(api_key="dummy", http_options={"base_url": server.url})
        ...
        assert [r.status for r in server.journal()] == [429, 200]

Standard library only.
"""

from __future__ import annotations

import json as _json
import os
import queue
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import threading
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple, Union

__all__ = [
    "AdminError",
    "Mount",
    "MockServer",
    "Request",
    "VerificationError",
    "binary_path",
]

#: The variables `MockServer.genai_environment` sets, and those it removes: google-genai reads
#: its base URL from GOOGLE_GEMINI_BASE_URL and prefers GOOGLE_API_KEY over GEMINI_API_KEY.
DUMMY_API_KEY = "nanobanana-mock-dummy-key"
REMOVED_VARIABLES = ("GOOGLE_API_KEY", "GOOGLE_GENAI_USE_VERTEXAI", "GOOGLE_GENAI_USE_ENTERPRISE")

ExpectSpec = Union[int, bool, Tuple[Optional[int], Optional[int]], Mapping[str, int]]


class AdminError(Exception):
    """The admin API refused a call; `status` is the HTTP status, `message` the server's text."""

    def __init__(self, status: int, message: str):
        super().__init__(f"nanobanana-mock admin API answered {status}: {message}")
        self.status = status
        self.message = message


class VerificationError(AssertionError):
    """A mounted expectation was not met (or, in replay mode, a request matched no recording).
    The message is the server's report: each failure, then every request received."""


@dataclass(frozen=True)
class Request:
    """One request the server received, as the journal shows it (API keys redacted)."""

    index: int
    method: str
    path: str
    endpoint: Optional[str]
    model: Optional[str]
    status: int
    query: Dict[str, str]
    headers: Dict[str, str]
    body_length: int
    #: The body decoded as JSON (None when it was not JSON, or not kept).
    body: Any
    #: The body as text when it was text but not JSON (a multipart upload, for instance).
    body_text: Optional[str]
    body_dropped: bool
    #: A body was sent but the journal does not hold it (over its limits).
    body_truncated: bool
    raw: Dict[str, Any] = field(repr=False, compare=False)

    @classmethod
    def from_json(cls, entry: Dict[str, Any]) -> "Request":
        return cls(
            index=entry["index"],
            method=entry["method"],
            path=entry["path"],
            endpoint=entry["endpoint"],
            model=entry.get("model"),
            status=entry["status"],
            query=entry.get("query", {}),
            headers=entry.get("headers", {}),
            body_length=entry.get("bodyLength", 0),
            body=entry.get("body"),
            body_text=entry.get("bodyText"),
            body_dropped=entry.get("bodyDropped", False),
            body_truncated=entry.get("bodyTruncated", False),
            raw=entry,
        )

    @property
    def prompt(self) -> str:
        """The text parts of the last content of a generate request, joined by newlines."""
        contents = (self.body or {}).get("contents") or []
        if not contents:
            return ""
        parts = contents[-1].get("parts") or []
        return "\n".join(p["text"] for p in parts if isinstance(p, dict) and "text" in p)


@dataclass(frozen=True)
class Mount:
    """A mounted mock: `received()` counts the requests it matched, `remove()` unmounts it."""

    id: int
    description: str
    server: "MockServer" = field(repr=False, compare=False)

    def received(self) -> int:
        for mounted in self.server.mounts():
            if mounted["id"] == self.id:
                return mounted["received"]
        raise AdminError(404, f"mount {self.id} is no longer mounted")

    def remove(self) -> None:
        self.server.unmount(self.id)


def binary_path() -> str:
    """The `nanobanana-mock` binary: $NANOBANANA_MOCK_BIN, else the one installed with this
    package (the interpreter's scripts folder), else the first on PATH."""
    override = os.environ.get("NANOBANANA_MOCK_BIN")
    if override:
        return override
    name = "nanobanana-mock.exe" if sys.platform == "win32" else "nanobanana-mock"
    for scheme_dir in (sysconfig.get_path("scripts"), os.path.dirname(sys.executable)):
        candidate = os.path.join(scheme_dir, name)
        if os.path.isfile(candidate):
            return candidate
    found = shutil.which("nanobanana-mock")
    if found:
        return found
    raise FileNotFoundError(
        "nanobanana-mock: the server binary was not found beside this Python "
        f"({sysconfig.get_path('scripts')}) nor on PATH; install the nanobanana-mock wheel "
        "or set NANOBANANA_MOCK_BIN to the binary"
    )


# Loopback never goes through a proxy, whatever http_proxy says.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class MockServer:
    """A running fake server (started by `start`, or one already running at `url`)."""

    def __init__(
        self,
        url: str,
        *,
        admin_token: Optional[str] = None,
        process: Optional[subprocess.Popen] = None,
        log_path: Optional[str] = None,
    ):
        self.url = url.rstrip("/")
        self._admin_token = admin_token
        self._process = process
        self.log_path = log_path

    def __repr__(self) -> str:
        return f"MockServer({self.url!r})"

    @classmethod
    def start(
        cls,
        *args: str,
        binary: Optional[str] = None,
        admin_token: Optional[str] = None,
        timeout: float = 30.0,
    ) -> "MockServer":
        """Starts the binary on 127.0.0.1 and a free port with extra `args` (such as
        `--as-of 2026-03-01`, `--fixtures DIR`); its request log goes to `log_path` (a
        temporary file, deleted by `stop()`)."""
        command = [binary or binary_path(), "--addr", "127.0.0.1:0", *args]
        if admin_token:
            command += ["--admin-token", admin_token]
        log = tempfile.NamedTemporaryFile(prefix="nanobanana-mock-", suffix=".log", delete=False)
        process = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=log, stdin=subprocess.DEVNULL, text=True
        )
        log.close()
        lines: "queue.Queue[str]" = queue.Queue()
        assert process.stdout is not None
        reader = threading.Thread(target=lambda: lines.put(process.stdout.readline()), daemon=True)
        reader.start()
        try:
            first = lines.get(timeout=timeout)
        except queue.Empty:
            first = ""
        prefix = "listening on "
        if not first.startswith(prefix):
            process.kill()
            process.wait()
            with open(log.name, encoding="utf-8", errors="replace") as f:
                output = f.read()[-2000:]
            os.unlink(log.name)
            raise RuntimeError(
                f"nanobanana-mock did not start ({' '.join(command)}): "
                f"first line {first!r}, exit code {process.poll()}, stderr: {output}"
            )
        return cls(first[len(prefix):].strip(), admin_token=admin_token, process=process,
                   log_path=log.name)

    def stop(self) -> None:
        """Stops the server if this object started it."""
        process, self._process = self._process, None
        if process is None:
            return
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stdout is not None:
            process.stdout.close()
        if self.log_path is not None:
            try:
                os.unlink(self.log_path)
            except OSError:
                pass

    def __enter__(self) -> "MockServer":
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def genai_environment(self) -> Dict[str, str]:
        """The variables that point an unmodified google-genai client at this server."""
        return {"GOOGLE_GEMINI_BASE_URL": self.url, "GEMINI_API_KEY": DUMMY_API_KEY}

    # The admin API.

    def _call(self, method: str, path: str, body: Any = None,
              query: Optional[Mapping[str, Any]] = None) -> Any:
        url = f"{self.url}/__admin/{path}"
        if query:
            url += "?" + urllib.parse.urlencode({k: v for k, v in query.items() if v is not None})
        data = None if body is None else _json.dumps(body).encode()
        request = urllib.request.Request(url, data=data, method=method)
        if data is not None:
            request.add_header("content-type", "application/json")
        if self._admin_token:
            request.add_header("authorization", f"Bearer {self._admin_token}")
        try:
            with _OPENER.open(request, timeout=30) as response:
                return _json.loads(response.read() or b"null")
        except urllib.error.HTTPError as e:
            text = e.read().decode("utf-8", "replace")
            try:
                message = _json.loads(text)["error"]["message"]
            except (ValueError, KeyError, TypeError):
                message = text
            raise AdminError(e.code, message) from None

    def journal(self, *, endpoint: Optional[str] = None, model: Optional[str] = None,
                status: Optional[int] = None, method: Optional[str] = None) -> List[Request]:
        """The requests received, oldest first, optionally filtered (`endpoint` is a name such as
        `generateContent`, `streamGenerateContent`, `files.upload`; see ADMIN.md)."""
        answer = self._call("GET", "journal", query={
            "endpoint": endpoint, "model": model, "status": status, "method": method,
        })
        return [Request.from_json(entry) for entry in answer["requests"]]

    def clear_journal(self) -> None:
        self._call("DELETE", "journal")

    def mount(
        self,
        *,
        endpoint: Optional[str] = None,
        model: Optional[str] = None,
        method: Optional[str] = None,
        path: Optional[str] = None,
        headers: Optional[Mapping[str, str]] = None,
        json: Optional[Mapping[str, Any]] = None,
        body_contains: Optional[str] = None,
        fault: Optional[str] = None,
        outcome: Optional[str] = None,
        status: Optional[int] = None,
        body: Any = None,
        mode: Optional[str] = None,
        times: Optional[int] = None,
        expect: Optional[ExpectSpec] = None,
        name: Optional[str] = None,
    ) -> Mount:
        """Mounts a mock. Matching (all given must hold): `endpoint`, `model`, `method`, `path`
        (contains), `headers`, `json` (JSON pointer to value, e.g.
        `{"/generationConfig/imageConfig/aspectRatio": "16:9"}`), `body_contains`. Answer:
        `fault` (the x-nanobanana-fault syntax, e.g. "status=429; retry-delay=2s"), `outcome`
        ("no-image", "image-safety", ...), `status` (an error status, or the status of `body`),
        `body` (a fixed JSON answer), or `mode`; nothing given only counts. `times` limits how
        many requests it applies to; `expect` (a count, True for at least one, `(min, max)`) is
        checked by `verify()`."""
        conditions = {
            "endpoint": endpoint, "model": model, "method": method, "path": path,
            "headers": dict(headers) if headers else None,
            "json": dict(json) if json else None, "bodyContains": body_contains,
        }
        respond = {"fault": fault, "outcome": outcome, "status": status, "json": body,
                   "mode": mode}
        spec: Dict[str, Any] = {
            "match": {k: v for k, v in conditions.items() if v is not None},
            "respond": {k: v for k, v in respond.items() if v is not None},
        }
        if name is not None:
            spec["name"] = name
        if times is not None:
            spec["times"] = times
        if expect is not None:
            spec["expect"] = _expect_json(expect)
        mounted = self._call("POST", "mounts", spec)
        return Mount(id=mounted["id"], description=mounted["description"], server=self)

    def mounts(self) -> List[Dict[str, Any]]:
        """The mounted mocks: id, description, received, times, expect, unmet."""
        return self._call("GET", "mounts")["mounts"]

    def unmount(self, mount_id: int) -> None:
        self._call("DELETE", f"mounts/{mount_id}")

    def unmount_all(self) -> None:
        self._call("DELETE", "mounts")

    def verification(self) -> Dict[str, Any]:
        """`{"ok", "failures", "unmatched", "report"}` without raising."""
        return self._call("GET", "verify")

    def verify(self) -> None:
        """Raises `VerificationError` with the server's report when an expectation failed."""
        result = self.verification()
        if not result["ok"]:
            raise VerificationError(result["report"])

    def reset(self) -> None:
        """Forgets mounts, the journal, stored files and batches; restores the settings."""
        self._call("POST", "reset")

    def settings(self) -> Dict[str, str]:
        """`{"mode", "asOf", "signatures"}`."""
        return self._call("GET", "settings")

    def update_settings(self, *, mode: Optional[str] = None, as_of: Optional[str] = None,
                        signatures: Optional[str] = None) -> Dict[str, str]:
        """Changes the mode (simulate, replay, hybrid), the service's date (YYYY-MM-DD) or the
        signature policy (by-date, strict, lenient) until `reset()`."""
        patch = {"mode": mode, "asOf": as_of, "signatures": signatures}
        return self._call("PATCH", "settings", {k: v for k, v in patch.items() if v is not None})


def _expect_json(expect: ExpectSpec) -> Any:
    if isinstance(expect, bool):
        if not expect:
            raise ValueError("expect=False means nothing; give a count, True or (min, max)")
        return True
    if isinstance(expect, int):
        return expect
    if isinstance(expect, Mapping):
        return dict(expect)
    if isinstance(expect, Sequence) and len(expect) == 2:
        low, high = expect
        return {k: v for k, v in (("min", low), ("max", high)) if v is not None}
    raise ValueError(f"expect={expect!r}: give a count, True or (min, max)")
