"""The sample application's tests: plain pytest, the application unmodified, and the
nanobanana-mock plugin's `nanobanana_mock` fixture for assertions and arrangements."""

import base64
import os

import pytest

import banana_app

JPEG = b"\xff\xd8"


def test_an_unmodified_client_talks_to_the_fake_server():
    # No fixture: the plugin's opt-in (pytest.ini) pointed google-genai at the fake.
    assert os.environ["GOOGLE_GEMINI_BASE_URL"].startswith("http://127.0.0.1:")
    assert "GOOGLE_API_KEY" not in os.environ
    assert banana_app.make_image("a nano banana dish").startswith(JPEG)


def test_the_prompt_and_aspect_ratio_reach_the_service(nanobanana_mock):
    banana_app.make_image("a banana skyline", aspect_ratio="16:9")
    calls = nanobanana_mock.journal(endpoint="generateContent")
    assert len(calls) == 1
    assert calls[0].model == banana_app.MODEL
    assert calls[0].prompt == "a banana skyline"
    assert calls[0].body["generationConfig"]["imageConfig"]["aspectRatio"] == "16:9"
    assert calls[0].headers["x-goog-api-key"] == "***", "the journal redacts keys"


def test_an_edit_sends_the_image_back(nanobanana_mock):
    first = banana_app.make_image("a fox logo")
    edited = banana_app.edit_image(first, "make it blue")
    assert edited.startswith(JPEG) and edited != first
    edit = nanobanana_mock.journal()[-1]
    parts = edit.body["contents"][0]["parts"]
    # google-genai sends the bytes URL-safe base64 encoded (and the field names as it likes).
    sent = base64.urlsafe_b64decode(parts[0]["inlineData"]["data"])
    assert sent == first
    assert edit.prompt == "make it blue"


def test_a_rate_limit_is_retried(nanobanana_mock):
    nanobanana_mock.mount(endpoint="generateContent", status=429, times=1, expect=1)
    assert banana_app.make_image("a cat").startswith(JPEG)
    assert [call.status for call in nanobanana_mock.journal()] == [429, 200]


def test_a_safety_block_is_reported(nanobanana_mock):
    nanobanana_mock.mount(outcome="image-safety", expect=1)
    with pytest.raises(banana_app.NoImage, match="IMAGE_SAFETY"):
        banana_app.make_image("a cat")


def test_only_wide_images_fail(nanobanana_mock):
    nanobanana_mock.mount(
        json={"/generationConfig/imageConfig/aspectRatio": "21:9"}, outcome="no-image"
    )
    assert banana_app.make_image("a cat", aspect_ratio="1:1").startswith(JPEG)
    with pytest.raises(banana_app.NoImage, match="NO_IMAGE"):
        banana_app.make_image("a cat", aspect_ratio="21:9")


def test_an_unmet_expectation_is_reported(nanobanana_mock):
    mount = nanobanana_mock.mount(endpoint="streamGenerateContent", expect=1, name="a stream")
    banana_app.make_image("a cat")
    assert mount.received() == 0
    result = nanobanana_mock.verification()
    assert not result["ok"]
    assert 'mock "a stream" expected exactly 1 matching request(s), received 0' in result["report"]
    mount.remove()  # so the fixture's own verification passes


def test_a_test_can_have_a_server_of_its_own(nanobanana_mock_isolated, nanobanana_mock_session):
    assert nanobanana_mock_isolated.url != nanobanana_mock_session.url
    seen_by_session = len(nanobanana_mock_session.journal())
    nanobanana_mock_isolated.update_settings(signatures="strict")
    assert banana_app.make_image("a cat").startswith(JPEG)
    assert len(nanobanana_mock_isolated.journal()) == 1
    assert len(nanobanana_mock_session.journal()) == seen_by_session
