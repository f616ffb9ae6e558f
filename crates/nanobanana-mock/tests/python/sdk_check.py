#!/usr/bin/env python3
"""Drive the fake server with the official Python SDK (google-genai, from PyPI), unchanged.

Usage: sdk_check.py PATH/TO/nanobanana-mock

Starts the server binary on a free loopback port (the service as it is today) and a second one
with `--as-of 2026-03-01` (the early-2026 service with its preview ids), points `genai.Client` at
them with `http_options={"base_url": ...}` and runs the scenarios below: text-to-image on the
default model with the SDK's 2026 fields (store, service_tier), image config, a three-turn chat
(signatures sent back, URL-safe re-encoded by the SDK), streaming, a streamed chat, an upload
referenced by URI, a shut-down id's 404, an unsigned image turn and the dummy signature accepted,
the current models' refusals, the preview ids on the early-2026 server, an injected 429, and
the Interactions API through `client.interactions` (sdk_interactions.py): create with an inline
image and with `delivery: uri`, a continuation, a resumed stream, a background run, cancel,
delete and an error.
Prints one line per scenario and a summary `N passed, N failed`; exits 1 when any failed.
"""

import json
import os
import struct
import subprocess
import sys
import traceback

from google import genai
from google.genai import errors, types

import sdk_interactions

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "..", "..", "..", "nanobanana-rules", "data")
DEFAULT = "gemini-nano-banana-2.1"
FLASH = "gemini-3.1-flash-image"
PRO = "gemini-3-pro-image"
LITE = "gemini-3.1-flash-lite-image"


def catalogue_model(model):
    with open(os.path.join(DATA, "models.json")) as f:
        return next(m for m in json.load(f)["models"] if m["id"] == model)


def expected_size(model, ratio, size):
    """The pixel size of the model's table row (a model without a published table of its own,
    such as 2.1, uses another model's rows: fixtures/models.json resolutionTable)."""
    with open(os.path.join(DATA, "resolution-tables.json")) as f:
        tables = json.load(f)["models"]
    entry = tables[catalogue_model(model)["resolutionTable"]]["aspect_ratios"][ratio]
    entry = entry.get(size, entry) if size else entry
    return entry["width"], entry["height"]


def jpeg_size(data):
    assert data[:2] == b"\xff\xd8", "not a JPEG"
    at = 2
    while at + 9 < len(data):
        marker, length = data[at + 1], struct.unpack(">H", data[at + 2:at + 4])[0]
        if 0xC0 <= marker <= 0xC3:
            height, width = struct.unpack(">HH", data[at + 5:at + 9])
            return width, height
        at += 2 + length
    raise AssertionError("no JPEG frame header")


def png_size(data):
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    return struct.unpack(">II", data[16:24])


def image_size(data):
    return png_size(data) if data[:8] == b"\x89PNG\r\n\x1a\n" else jpeg_size(data)


def images(response):
    return [
        p.inline_data.data
        for c in response.candidates or []
        for p in (c.content.parts or [] if c.content else [])
        if p.inline_data and not p.thought
    ]


def text_to_image(client):
    """The default model of late 2026, with the fields google-genai 3.6.1 adds (store,
    service_tier): accepted, and the answer is a JPEG, as the 3.x image models answer."""
    response = client.models.generate_content(
        model=DEFAULT,
        contents="A nano banana dish in a fancy restaurant",
        config=types.GenerateContentConfig(store=False, service_tier="standard"),
    )
    found = images(response)
    assert len(found) == 1, f"expected one image, got {len(found)}"
    assert found[0][:2] == b"\xff\xd8", "3.x models answer JPEG"
    assert jpeg_size(found[0]) == expected_size(DEFAULT, "1:1", "1K")
    assert response.text, "expected text with the image"
    assert response.usage_metadata.total_token_count > 0


def image_config(client):
    config = types.GenerateContentConfig(
        response_modalities=["IMAGE"],
        image_config=types.ImageConfig(aspect_ratio="16:9", image_size="2K"),
    )
    response = client.models.generate_content(model=PRO, contents="A banana skyline", config=config)
    found = images(response)
    assert len(found) == 1
    assert image_size(found[0]) == expected_size(PRO, "16:9", "2K")


def two_turn_chat(client):
    chat = client.chats.create(
        model=FLASH,
        config=types.GenerateContentConfig(response_modalities=["TEXT", "IMAGE"]),
    )
    first = chat.send_message("Draw a fox logo")
    assert len(images(first)) == 1
    second = chat.send_message(
        "Make it blue, 21:9",
        config=types.GenerateContentConfig(
            response_modalities=["TEXT", "IMAGE"],
            image_config=types.ImageConfig(aspect_ratio="21:9", image_size="1K"),
        ),
    )
    assert image_size(images(second)[0]) == expected_size(FLASH, "21:9", "1K")
    third = chat.send_message("Add a moon")
    assert len(images(third)) == 1


def streaming(client):
    chunks = list(
        client.models.generate_content_stream(
            model=FLASH,
            contents="A banana boat",
            config=types.GenerateContentConfig(
                thinking_config=types.ThinkingConfig(include_thoughts=True, thinking_level="HIGH"),
            ),
        )
    )
    assert len(chunks) >= 3, f"expected several chunks, got {len(chunks)}"
    found = [img for chunk in chunks for img in images(chunk)]
    assert len(found) == 1, f"expected one final image across chunks, got {len(found)}"
    assert chunks[-1].candidates[0].finish_reason == types.FinishReason.STOP


def streamed_chat(client):
    chat = client.chats.create(model=PRO)
    list(chat.send_message_stream("A banana robot"))
    chunks = list(chat.send_message_stream("Now in watercolor"))
    assert any(images(c) for c in chunks)


def upload_and_edit(client, tmp):
    sketch = os.path.join(tmp, "sketch.png")
    first = client.models.generate_content(
        model=FLASH,
        contents="A sketch",
        config=types.GenerateContentConfig(image_config=types.ImageConfig(aspect_ratio="4:3")),
    )
    with open(sketch, "wb") as f:
        f.write(images(first)[0])
    uploaded = client.files.upload(file=sketch)
    assert uploaded.name.startswith("files/")
    assert client.files.get(name=uploaded.name).size_bytes == os.path.getsize(sketch)
    edited = client.models.generate_content(
        model=FLASH,
        contents=[uploaded, "Paint this as a watercolor"],
    )
    # No aspect ratio: the output matches the input image's ratio (SPEC.md section 1).
    assert image_size(images(edited)[0]) == expected_size(FLASH, "4:3", "1K")


def shut_down_id(client):
    """A preview id shut down on 2026-06-25 gets the service's 404 NOT_FOUND."""
    try:
        client.models.generate_content(model="gemini-3-pro-image-preview", contents="A banana")
    except errors.ClientError as e:
        assert e.code == 404 and e.status == "NOT_FOUND", (e.code, e.status)
        assert "models/gemini-3-pro-image-preview is not found" in e.message, e.message
        return
    raise AssertionError("a shut-down id was served")


def unsigned_and_dummy_signatures(client):
    """Since 2026-07-22 a model image turn sent back without its signature is accepted, and the
    documented dummy signature passes, as the plain string and base64-encoded by the SDK."""
    first = client.models.generate_content(model=FLASH, contents="A fox logo")
    image = images(first)[0]
    for signature in (None, b"skip_thought_signature_validator"):
        contents = [
            types.Content(role="user", parts=[types.Part(text="A fox logo")]),
            types.Content(
                role="model",
                parts=[types.Part(
                    inline_data=types.Blob(mime_type="image/jpeg", data=image),
                    thought_signature=signature,
                )],
            ),
            types.Content(role="user", parts=[types.Part(text="Make it blue")]),
        ]
        answer = client.models.generate_content(model=FLASH, contents=contents)
        assert len(images(answer)) == 1, signature


def current_models_refuse_what_they_lack(client):
    for model, config, needle in [
        (DEFAULT, types.ImageConfig(image_size="512"), "Allowed: 1K, 2K, 4K."),
        (LITE, types.ImageConfig(image_size="2K"), "Allowed: 1K."),
        (PRO, types.ImageConfig(aspect_ratio="1:8"), "Unsupported aspect ratio"),
    ]:
        try:
            client.models.generate_content(
                model=model, contents="A banana", config=types.GenerateContentConfig(image_config=config)
            )
        except errors.ClientError as e:
            assert e.code == 400 and needle in e.message, (model, e.code, e.message)
            continue
        raise AssertionError(f"{model} accepted {config}")


def early_service(url):
    """The server started with --as-of 2026-03-01 serves the preview ids, answering PNG as the
    early-2026 corpus records."""
    client = genai.Client(api_key="test-key", http_options={"base_url": url})
    response = client.models.generate_content(model="gemini-3.1-flash-image-preview", contents="A banana")
    found = images(response)
    assert png_size(found[0]) == expected_size("gemini-3.1-flash-image-preview", "1:1", "1K")
    names = [m.name for m in client.models.list()]
    assert "models/gemini-3-pro-image-preview" in names and "models/gemini-nano-banana-2.1" not in names, names


def refused(client):
    try:
        client.models.generate_content(
            model=FLASH,
            contents="A banana",
            config=types.GenerateContentConfig(image_config=types.ImageConfig(image_size="1k")),
        )
    except errors.ClientError as e:
        assert e.code == 400, e.code
        assert "upper-case K" in e.message, e.message
        return
    raise AssertionError("a lower-case 1k was accepted")


def rate_limited(url):
    client = genai.Client(
        api_key="test-key",
        http_options={"base_url": url, "headers": {"x-nanobanana-fault": "status=429"}},
    )
    try:
        client.models.generate_content(model=FLASH, contents="A banana")
    except errors.ClientError as e:
        assert e.code == 429 and e.status == "RESOURCE_EXHAUSTED", (e.code, e.status)
        return
    raise AssertionError("the injected 429 did not reach the SDK")


def start(binary, *flags):
    server = subprocess.Popen(
        [binary, "--quiet", *flags], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    line = server.stdout.readline().strip()
    prefix = "listening on "
    if not line.startswith(prefix):
        server.terminate()
        raise SystemExit(f"unexpected first line from the server: {line!r}")
    return server, line[len(prefix):]


def main(argv):
    if len(argv) != 2:
        print(__doc__)
        return 2
    server, url = start(argv[1])
    early, early_url = start(argv[1], "--as-of", "2026-03-01")
    try:
        client = genai.Client(api_key="test-key", http_options={"base_url": url})
        tmp = os.environ.get("TMPDIR", "/tmp")
        scenarios = [
            ("text-to-image", lambda: text_to_image(client)),
            ("image config (16:9, 2K, image only)", lambda: image_config(client)),
            ("three-turn chat with a per-turn config", lambda: two_turn_chat(client)),
            ("streaming with thoughts", lambda: streaming(client)),
            ("streamed two-turn chat", lambda: streamed_chat(client)),
            ("resumable upload, then edit by file URI", lambda: upload_and_edit(client, tmp)),
            ("lower-case 1k refused with 400", lambda: refused(client)),
            ("shut-down preview id gets 404 NOT_FOUND", lambda: shut_down_id(client)),
            ("unsigned image turn and dummy signature accepted", lambda: unsigned_and_dummy_signatures(client)),
            ("2.1 512, Lite 2K, Pro 1:8 refused with 400", lambda: current_models_refuse_what_they_lack(client)),
            ("--as-of 2026-03-01 serves the preview ids", lambda: early_service(early_url)),
            ("injected 429 surfaces as ClientError", lambda: rate_limited(url)),
            *sdk_interactions.scenarios(client, url, expected_size, image_size),
        ]
        passed = failed = 0
        for name, run in scenarios:
            try:
                run()
                passed += 1
                print(f"ok   {name}")
            except Exception:  # noqa: BLE001 - report every failure and go on
                failed += 1
                print(f"FAIL {name}")
                traceback.print_exc(limit=3)
        print(f"google-genai {genai.__version__}: {passed} passed, {failed} failed")
        return 1 if failed else 0
    finally:
        for process in (server, early):
            process.terminate()
            process.wait(timeout=10)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
