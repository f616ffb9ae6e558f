"""The Interactions API scenarios of sdk_check.py: google-genai's `client.interactions`, unchanged,
against the fake server (docs/service/INTERACTIONS.md)."""

import base64
import urllib.request

DEFAULT = "gemini-nano-banana-2.1"
IMAGE_1K_16_9 = {"type": "image", "aspect_ratio": "16:9", "image_size": "1K", "mime_type": "image/jpeg"}


def image_bytes(content):
    """The bytes of an image content (the SDK keeps `data` as the wire's base64 text)."""
    data = content.data
    return base64.b64decode(data) if isinstance(data, str) else bytes(data)


def create_inline(client, expected_size, image_size):
    interaction = client.interactions.create(model=DEFAULT, input="A nano banana dish", response_format=IMAGE_1K_16_9)
    assert interaction.status == "completed", interaction.status
    assert [s.type for s in interaction.steps] == ["thought", "model_output"], interaction.steps
    assert interaction.steps[0].signature, "the thought step has no signature"
    image = interaction.output_image
    assert image.mime_type == "image/jpeg", image.mime_type
    got = image_size(image_bytes(image))
    assert got == expected_size(DEFAULT, "16:9", "1K"), got
    assert interaction.output_text, "no text in the answer"
    assert interaction.usage.total_tokens > 0, interaction.usage


def create_uri(client, url, image_size):
    interaction = client.interactions.create(
        model=DEFAULT, input="A nano banana dish", response_format={"type": "image", "delivery": "uri"}
    )
    image = interaction.output_image
    assert image.uri and image.uri.startswith(url), image.uri
    assert not image.data, "delivery uri sent data too"
    request = urllib.request.Request(image.uri, headers={"x-goog-api-key": "test-key"})
    with urllib.request.urlopen(request) as answer:
        assert answer.headers["content-type"] == "image/jpeg", answer.headers["content-type"]
        assert image_size(answer.read()) == (1024, 1024)


def continuation(client):
    first = client.interactions.create(model=DEFAULT, input="A nano banana dish", response_format=IMAGE_1K_16_9)
    second = client.interactions.create(
        model=DEFAULT, input="Make the plate blue", previous_interaction_id=first.id, response_format=IMAGE_1K_16_9
    )
    assert second.status == "completed" and second.previous_interaction_id == first.id, second
    assert second.output_image is not None
    timeline = client.interactions.get(second.id)
    assert [s.type for s in timeline.steps] == ["user_input", "thought", "model_output"], timeline.steps
    unstored = client.interactions.create(model=DEFAULT, input="A nano banana dish", store=False)
    try:
        client.interactions.create(model=DEFAULT, input="Make it blue", previous_interaction_id=unstored.id)
    except Exception as e:  # noqa: BLE001 - the SDK's own NotFoundError
        assert getattr(e, "status_code", 404) == 404 and "was not found" in str(e), e
        return
    raise AssertionError("a continuation of a store: false interaction was accepted")


def stream(client, image_size):
    events = list(client.interactions.create(model=DEFAULT, input="A nano banana dish", stream=True))
    kinds = [e.event_type for e in events]
    assert kinds[0] == "interaction.created" and kinds[-1] == "interaction.completed", kinds
    assert {"step.start", "step.delta", "step.stop"} <= set(kinds), kinds
    ids = [e.event_id for e in events]
    assert all(ids) and len(set(ids)) == len(ids), ids
    images = [e.delta for e in events if e.event_type == "step.delta" and e.delta.type == "image"]
    assert len(images) == 1 and image_size(image_bytes(images[0])) == (1024, 1024), images
    interaction_id = events[0].interaction.id
    resumed = list(client.interactions.get(interaction_id, stream=True, last_event_id=ids[4]))
    assert [e.event_id for e in resumed] == ids[5:], [e.event_id for e in resumed]


def background(client):
    started = client.interactions.create(model=DEFAULT, input="A nano banana dish", background=True)
    assert started.status == "in_progress" and not started.steps, started
    statuses = [client.interactions.get(started.id).status for _ in range(2)]
    assert statuses == ["in_progress", "completed"], statuses
    done = client.interactions.get(started.id)
    assert done.output_image is not None


def cancel_and_delete(client):
    started = client.interactions.create(model=DEFAULT, input="A nano banana dish", background=True)
    assert client.interactions.cancel(started.id).status == "cancelled"
    try:
        client.interactions.cancel(started.id)
        raise AssertionError("a second cancel was accepted")
    except AssertionError:
        raise
    except Exception as e:  # noqa: BLE001 - the SDK's BadRequestError
        assert "already cancelled" in str(e), e
    client.interactions.delete(started.id)
    try:
        client.interactions.get(started.id)
    except Exception as e:  # noqa: BLE001 - the SDK's NotFoundError
        assert "was not found" in str(e), e
        return
    raise AssertionError("a deleted interaction was still found")


def refused(client):
    try:
        client.interactions.create(
            model=DEFAULT, input="A nano banana dish", response_format={"type": "image", "image_size": "512"}
        )
    except Exception as e:  # noqa: BLE001 - the SDK's BadRequestError
        assert getattr(e, "status_code", None) == 400, e
        assert 'Unsupported image size "512" for model gemini-nano-banana-2.1' in str(e), e
        return
    raise AssertionError("512 was accepted for 2.1")


def scenarios(client, url, expected_size, image_size):
    return [
        ("interactions: create with an inline image", lambda: create_inline(client, expected_size, image_size)),
        ("interactions: delivery uri, downloaded from the server", lambda: create_uri(client, url, image_size)),
        ("interactions: previous_interaction_id, store: false refused", lambda: continuation(client)),
        ("interactions: stream, resumed after an event id", lambda: stream(client, image_size)),
        ("interactions: background run polled to completed", lambda: background(client)),
        ("interactions: cancel, second cancel refused, delete", lambda: cancel_and_delete(client)),
        ("interactions: 512 refused with the house text", lambda: refused(client)),
    ]
