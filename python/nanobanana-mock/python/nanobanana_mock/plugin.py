"""pytest plugin of nanobanana-mock (registered through the `pytest11` entry point).

Fixtures:
- `nanobanana_mock`: the session's server, reset before the test and verified after it (an
  unmet expectation fails the test at teardown); google-genai is pointed at it for the test.
- `nanobanana_mock_session`: the session's server (one process for the whole run), as is.
- `nanobanana_mock_isolated`: a server of its own for this test, stopped after it.

Opt-in for unmodified code: `--nanobanana-mock` on the command line or
`nanobanana_mock_autouse = true` in the ini file starts the session's server when pytest starts
(before test modules are imported, so a client made at import time is covered), points
google-genai at it for the whole run (GOOGLE_GEMINI_BASE_URL, a dummy GEMINI_API_KEY;
GOOGLE_API_KEY and the Vertex AI switches removed) and resets and verifies it around every test.
The `nanobanana_mock` marker does the same for one test. `nanobanana_mock_args` (ini) passes
extra flags to the server, e.g. `--as-of 2026-12-03 --fixtures tests/recordings`.
"""

from __future__ import annotations

import os
from typing import Dict, Iterator, List, Optional

import pytest

from . import REMOVED_VARIABLES, MockServer

_STATE = pytest.StashKey["_State"]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("nanobanana-mock", "the fake Gemini server")
    group.addoption(
        "--nanobanana-mock",
        action="store_true",
        dest="nanobanana_mock",
        default=False,
        help="point google-genai at one fake Gemini server for the whole run",
    )
    parser.addini(
        "nanobanana_mock_autouse",
        type="bool",
        default=False,
        help="like --nanobanana-mock: every test runs against the fake Gemini server",
    )
    parser.addini(
        "nanobanana_mock_args",
        type="args",
        default=[],
        help="extra flags for the nanobanana-mock server (e.g. --as-of 2026-12-03)",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "nanobanana_mock: run this test against the fake Gemini server "
        "(google-genai pointed at it, reset before, verified after)",
    )
    state = _State(config)
    config.stash[_STATE] = state
    if state.autouse:
        state.point_environment_at(state.server())


def pytest_unconfigure(config: pytest.Config) -> None:
    state = config.stash.get(_STATE, None)
    if state is not None:
        state.close()


class _State:
    """The session's server (started on first use) and the environment it replaced."""

    def __init__(self, config: pytest.Config):
        self.args: List[str] = list(config.getini("nanobanana_mock_args"))
        self.autouse: bool = bool(
            config.getoption("nanobanana_mock") or config.getini("nanobanana_mock_autouse")
        )
        self._server: Optional[MockServer] = None
        self._saved: Optional[Dict[str, Optional[str]]] = None

    def server(self) -> MockServer:
        if self._server is None:
            self._server = MockServer.start(*self.args)
        return self._server

    def point_environment_at(self, server: MockServer) -> None:
        changes = _environment(server)
        self._saved = {name: os.environ.get(name) for name in changes}
        for name, value in changes.items():
            _set(name, value)

    def close(self) -> None:
        if self._saved is not None:
            for name, value in self._saved.items():
                _set(name, value)
            self._saved = None
        if self._server is not None:
            self._server.stop()
            self._server = None


def _environment(server: MockServer) -> Dict[str, Optional[str]]:
    """The variables to set (None: to remove) for google-genai to use `server`."""
    changes: Dict[str, Optional[str]] = {name: None for name in REMOVED_VARIABLES}
    changes.update(server.genai_environment())
    return changes


def _set(name: str, value: Optional[str]) -> None:
    if value is None:
        os.environ.pop(name, None)
    else:
        os.environ[name] = value


def _point(monkeypatch: pytest.MonkeyPatch, server: MockServer) -> None:
    for name, value in _environment(server).items():
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, value)


@pytest.fixture(scope="session")
def nanobanana_mock_session(pytestconfig: pytest.Config) -> MockServer:
    """The session's fake Gemini server (one process for the run), as is: not reset."""
    return pytestconfig.stash[_STATE].server()


@pytest.fixture
def nanobanana_mock(
    nanobanana_mock_session: MockServer, monkeypatch: pytest.MonkeyPatch
) -> Iterator[MockServer]:
    """The session's fake Gemini server, reset for this test and verified after it; google-genai
    is pointed at it while the test runs."""
    server = nanobanana_mock_session
    server.reset()
    _point(monkeypatch, server)
    yield server
    server.verify()


@pytest.fixture
def nanobanana_mock_isolated(
    pytestconfig: pytest.Config, monkeypatch: pytest.MonkeyPatch
) -> Iterator[MockServer]:
    """A fake Gemini server of this test's own (a new process), verified and stopped after it;
    google-genai is pointed at it while the test runs."""
    with MockServer.start(*pytestconfig.stash[_STATE].args) as server:
        _point(monkeypatch, server)
        yield server
        server.verify()


@pytest.fixture(autouse=True)
def _nanobanana_mock_autouse(request: pytest.FixtureRequest) -> None:
    """Under the opt-in (or the marker), every test gets `nanobanana_mock`'s reset and verify."""
    state = request.config.stash[_STATE]
    wanted = state.autouse or request.node.get_closest_marker("nanobanana_mock") is not None
    if wanted and "nanobanana_mock_isolated" not in request.fixturenames:
        request.getfixturevalue("nanobanana_mock")
