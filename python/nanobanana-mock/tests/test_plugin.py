"""The plugin's own behaviour, seen from a pytest run of its own (pytester): the opt-ins, the
marker, the verification at teardown, the ini flags for the server."""

import os

import pytest

pytest_plugins = ["pytester"]


def test_without_an_opt_in_the_environment_is_left_alone(pytester, monkeypatch):
    monkeypatch.setenv("GOOGLE_API_KEY", "a-real-looking-key")
    pytester.makepyfile(
        """
        import os
        def test_env():
            assert "GOOGLE_GEMINI_BASE_URL" not in os.environ
            assert os.environ["GOOGLE_API_KEY"] == "a-real-looking-key"
        """
    )
    pytester.runpytest_subprocess().assert_outcomes(passed=1)


def test_the_command_line_opt_in_points_every_test_at_one_server(pytester, monkeypatch):
    monkeypatch.setenv("GOOGLE_API_KEY", "a-real-looking-key")
    pytester.makepyfile(
        """
        import os, urllib.request
        URL = os.environ.get("GOOGLE_GEMINI_BASE_URL")  # read at import: set before collection

        def test_one():
            assert URL and URL.startswith("http://127.0.0.1:")
            assert os.environ["GEMINI_API_KEY"] == "nanobanana-mock-dummy-key"
            assert "GOOGLE_API_KEY" not in os.environ

        def test_two(nanobanana_mock):
            assert nanobanana_mock.url == URL
            assert nanobanana_mock.journal() == []
        """
    )
    pytester.runpytest_subprocess("--nanobanana-mock").assert_outcomes(passed=2)


def test_the_marker_opts_one_test_in(pytester):
    pytester.makepyfile(
        """
        import os, pytest

        @pytest.mark.nanobanana_mock
        def test_in():
            assert os.environ["GOOGLE_GEMINI_BASE_URL"].startswith("http://127.0.0.1:")

        def test_out():
            assert "GOOGLE_GEMINI_BASE_URL" not in os.environ
        """
    )
    pytester.runpytest_subprocess().assert_outcomes(passed=2)


def test_an_unmet_expectation_fails_the_test_at_teardown(pytester):
    pytester.makepyfile(
        """
        def test_expects_a_call(nanobanana_mock):
            nanobanana_mock.mount(endpoint="generateContent", expect=1, name="one call")

        def test_next_test_starts_clean(nanobanana_mock):
            assert nanobanana_mock.mounts() == []
        """
    )
    result = pytester.runpytest_subprocess()
    result.assert_outcomes(passed=2, errors=1)
    result.stdout.fnmatch_lines(
        [
            "*VerificationError: nanobanana-mock verification failed:",
            '*- mock "one call" expected exactly 1 matching request(s), received 0',
        ]
    )


def test_ini_flags_reach_the_server_and_bad_input_is_explained(pytester):
    pytester.makeini(
        """
        [pytest]
        nanobanana_mock_args = --as-of 2026-03-01 --signatures strict
        """
    )
    pytester.makepyfile(
        """
        import pytest
        from nanobanana_mock import AdminError

        def test_settings(nanobanana_mock):
            assert nanobanana_mock.settings() == {
                "mode": "hybrid", "asOf": "2026-03-01", "signatures": "strict"}
            with pytest.raises(AdminError, match="unknown outcome .sad.; allowed: images, text-only, no-image"):
                nanobanana_mock.mount(outcome="sad")
        """
    )
    pytester.runpytest_subprocess().assert_outcomes(passed=1)


def test_an_admin_token_is_required_when_the_server_has_one():
    from nanobanana_mock import AdminError, MockServer

    with MockServer.start(admin_token="s3cret") as server:
        assert server.journal() == []
        stranger = MockServer(server.url)
        with pytest.raises(AdminError) as refused:
            stranger.journal()
        assert refused.value.status == 401
        assert "requires an admin token" in refused.value.message
    assert not os.path.exists(server.log_path), "stop() deletes the request log"
