#!/usr/bin/env python3
"""Drive the fake server with the official Python SDK (google-genai, from PyPI), unchanged.

Usage: sdk_check.py PATH/TO/nanobanana-mock

Starts the server binary on a free loopback port, points `genai.Client` at it with
`http_options={"base_url": ...}` and runs the scenarios below: text-to-image, image config,
a two-turn chat (signatures sent back, URL-safe re-encoded by the SDK), streaming, a streamed
chat, an upload referenced by URI, a refused request and an injected 429. Prints one line per
scenario and a summary `N passed, N failed`; exits 1 when any failed.
"""

import json
import os
import struct
import subprocess
import sys
import traceback

from google import genai
from google.genai import errors, types

HERE = os.path.dirname(os.path.abspath(__file__))
TABLE = os.path.join(HERE, "..", "..", "..", "nanobanana-rules", "data", "resolution-tables.json")
FLASH = "gemini-3.1-flash-image-preview"
PRO = "gemini-3-pro-image-preview"


def expected_size(model, ratio, size):
    with open(TABLE) as f:
        models = json.load(f)["models"]
    entry = models[model]["aspect_ratios"][ratio]
    entry = entry.get(size, entry) if size else entry
    return entry["width"], entry["height"]


def png_size(data):
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    return struct.unpack(">II", data[16:24])


def images(response):
    return [
        p.inline_data.data
        for c in response.candidates or []
        for p in (c.content.parts or [] if c.content else [])
        if p.inline_data and not p.thought
    ]


def text_to_image(client):
    response = client.models.generate_content(model=FLASH, contents="A nano banana dish in a fancy restaurant")
    found = images(response)
    assert len(found) == 1, f"expected one image, got {len(found)}"
    assert png_size(found[0]) == expected_size(FLASH, "1:1", "1K")
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
    assert png_size(found[0]) == expected_size(PRO, "16:9", "2K")


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
    assert png_size(images(second)[0]) == expected_size(FLASH, "21:9", "1K")
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
    assert png_size(images(edited)[0]) == expected_size(FLASH, "4:3", "1K")


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


def main(argv):
    if len(argv) != 2:
        print(__doc__)
        return 2
    server = subprocess.Popen(
        [argv[1], "--quiet"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        line = server.stdout.readline().strip()
        prefix = "listening on "
        if not line.startswith(prefix):
            print(f"unexpected first line from the server: {line!r}")
            return 1
        url = line[len(prefix):]
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
            ("injected 429 surfaces as ClientError", lambda: rate_limited(url)),
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
        server.terminate()
        server.wait(timeout=10)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
