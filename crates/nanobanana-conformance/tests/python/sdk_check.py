#!/usr/bin/env python3
"""Drive the official Python SDK (google-genai, from PyPI, unchanged) through scripted cases of the
conformance vectors.

Usage: sdk_check.py PATH/TO/nanobanana-conformance PATH/TO/fixtures

Each scenario starts `nanobanana-conformance serve --case ID` (the fake server replaying that one
case), points `genai.Client` at it with `http_options={"base_url": ...}`, makes the case's calls
through the SDK, and holds what the SDK returns to the case's `expect` block: the decoded images
and their pixel sizes, the signature verdict (SPEC.md section 4), the finish reason, grounding
facts, and for errors the HTTP status, error status and message. The same scenarios as
../js/sdk_check.mjs. Prints one line per scenario and `N passed, N failed`; exits 1 when any
failed.
"""

import base64
import json
import os
import re
import struct
import subprocess
import sys

from google import genai
from google.genai import errors

KEY = "python-sdk-check-key"


# ---------------------------------------------------------------------------------------------
# the vectors


def expand_blobs(value, fixtures):
    if isinstance(value, list):
        return [expand_blobs(v, fixtures) for v in value]
    if isinstance(value, dict):
        if list(value) == ["$blob"]:
            with open(os.path.join(fixtures, "blobs", "sha256", value["$blob"].split("/")[1]), "rb") as f:
                return base64.b64encode(f.read()).decode()
        return {k: expand_blobs(v, fixtures) for k, v in value.items()}
    return value


def load_case(fixtures, case_id):
    with open(os.path.join(fixtures, "cases", case_id + ".json"), encoding="utf-8") as f:
        return expand_blobs(json.load(f), fixtures)


def snake(name):
    return re.sub(r"([A-Z])", lambda m: "_" + m.group(1).lower(), name)


def decode(text):
    text = text.replace("-", "+").replace("_", "/")
    return base64.b64decode(text + "=" * (-len(text) % 4))


def to_sdk(value, key=""):
    """Keys in snake_case (the SDK's field names); base64 bytes fields decoded to bytes."""
    if isinstance(value, list):
        return [to_sdk(v, key) for v in value]
    if isinstance(value, dict):
        return {snake(k): to_sdk(v, snake(k)) for k, v in value.items()}
    if key in ("data", "thought_signature") and isinstance(value, str):
        return decode(value)
    return value


def call_of(interaction):
    body = to_sdk(interaction["request"]["body"])
    config = dict(body.get("generation_config", {}))
    for key in ("tools", "system_instruction", "safety_settings", "tool_config", "service_tier", "store"):
        if key in body:
            config[key] = body[key]
    call = {"model": re.search(r"/models/([^/:]+):", interaction["request"]["path"]).group(1),
            "contents": body["contents"]}
    if config:
        call["config"] = config
    return call


# ---------------------------------------------------------------------------------------------
# what a caller observes


def sniff(data):
    if data[1:4] == b"PNG" and len(data) >= 24:
        return ("image/png",) + struct.unpack(">II", data[16:24])
    if data[:2] == b"\xff\xd8":
        i = 2
        while i + 9 <= len(data) and data[i] == 0xFF:
            marker = data[i + 1]
            if marker in (0xC0, 0xC1, 0xC2):
                h, w = struct.unpack(">HH", data[i + 5:i + 9])
                return "image/jpeg", w, h
            i += 2 + struct.unpack(">H", data[i + 2:i + 4])[0]
    return None


def signature_findings(parts):
    out = []
    first = next((i for i, p in enumerate(parts) if not p.thought), None)
    for i, p in enumerate(parts):
        signed = p.thought_signature is not None
        if p.thought:
            if signed:
                out.append(f"response-thought-unsigned@{i}")
            continue
        if p.inline_data is not None and not signed:
            out.append(f"response-image-signed@{i}")
        if i == first and not signed:
            out.append(f"response-first-part-signed@{i}")
        if p.text is not None and first is not None and i > first and signed:
            out.append(f"response-later-text-unsigned@{i}")
    return sorted(out)


def enum_text(value):
    return getattr(value, "value", value)


def observe(responses):
    """Facts of candidate 0 over one or more responses (stream chunks are concatenated)."""
    parts, finish, grounding = [], None, None
    for r in responses:
        candidate = (r.candidates or [None])[0]
        if candidate is None:
            continue
        if candidate.content and candidate.content.parts:
            parts += candidate.content.parts
        if candidate.finish_reason is not None:
            finish = enum_text(candidate.finish_reason)
        if candidate.grounding_metadata is not None:
            grounding = candidate.grounding_metadata
    images = []
    for p in parts:
        if p.inline_data is None:
            continue
        info = sniff(p.inline_data.data)
        if info is None:
            raise AssertionError("an inlineData part does not decode to PNG or JPEG")
        images.append({"kind": "thought" if p.thought else "final", "width": info[1], "height": info[2],
                       "mimeType": info[0]})
    facts = {"images": images, "signatures": signature_findings(parts), "finishReason": finish}
    if grounding is not None:
        chunks = grounding.grounding_chunks or []
        facts["grounding"] = {
            "webChunks": sum(1 for c in chunks if c.web is not None),
            "imageChunks": sum(1 for c in chunks if getattr(c, "image", None) is not None),
            "supports": len(grounding.grounding_supports or []),
            "searchEntryPoint": bool(grounding.search_entry_point and grounding.search_entry_point.rendered_content),
        }
        if grounding.web_search_queries:
            facts["grounding"]["webSearchQueries"] = list(grounding.web_search_queries)
        if getattr(grounding, "image_search_queries", None):
            facts["grounding"]["imageSearchQueries"] = list(grounding.image_search_queries)
    first = responses[0]
    facts["blocked"] = bool(first.prompt_feedback and first.prompt_feedback.block_reason) and not first.candidates
    return facts


def check(expect, facts, interaction=0):
    problems = []
    if facts["images"] != expect.get("images", []):
        problems.append(f"images {facts['images']}, expected {expect.get('images', [])}")
    want = sorted(f"{v['rule']}@{v['part']}" for v in expect.get("signatures", {}).get("violations", [])
                  if v.get("interaction", 0) == interaction)
    if facts["signatures"] != want:
        problems.append(f"signature findings {facts['signatures']}, expected {want}")
    if "finishReason" in expect and facts["finishReason"] != expect["finishReason"]:
        problems.append(f"finishReason {facts['finishReason']}, expected {expect['finishReason']}")
    if facts.get("grounding") != expect.get("grounding"):
        problems.append(f"grounding {facts.get('grounding')}, expected {expect.get('grounding')}")
    if (expect.get("outcome") == "blocked-prompt") != facts["blocked"]:
        problems.append(f"blocked {facts['blocked']}, expected outcome {expect.get('outcome')}")
    if problems:
        raise AssertionError("; ".join(problems))


def expect_error(expect, run):
    try:
        run()
    except errors.APIError as e:
        want = expect["error"]
        problems = []
        if expect["status"] != 200 and e.code != expect["status"]:
            problems.append(f"HTTP {e.code}, expected {expect['status']}")
        for key, got in (("code", e.code), ("status", e.status), ("message", e.message)):
            if key in want and got != want[key]:
                problems.append(f"error {key} {got!r}, expected {want[key]!r}")
        if problems:
            raise AssertionError("; ".join(problems)) from None
        return
    raise AssertionError(f"no error, expected {expect['error']['status']} {expect['error']['message']!r}")


# ---------------------------------------------------------------------------------------------
# scenarios


def sdk(url, api_key=KEY):
    return genai.Client(api_key=api_key, http_options={"base_url": url})


def generate_each(case, url):
    client = sdk(url)  # kept in a variable: a Client closes its connections when collected
    last = len(case["interactions"]) - 1
    for i, interaction in enumerate(case["interactions"]):
        response = client.models.generate_content(**call_of(interaction))
        if i == last:
            check(case["expect"], observe([response]), i)
        else:
            recorded = genai.types.GenerateContentResponse.model_validate(interaction["response"]["body"])
            got, want = observe([response])["images"], observe([recorded])["images"]
            if got != want:
                raise AssertionError(f"interaction {i}: images {got}, recorded {want}")


def stream(case, url):
    client = sdk(url)
    chunks = list(client.models.generate_content_stream(**call_of(case["interactions"][0])))
    if len(chunks) < 2:
        raise AssertionError(f"expected several chunks, got {len(chunks)}")
    check(case["expect"], observe(chunks))


def chat(case, url):
    """A chat: the SDK keeps the history and sends the model's turns back itself (signatures
    included, URL-safe re-encoded); each turn's config is the recorded request's."""
    client = sdk(url)
    first = call_of(case["interactions"][0])
    session = client.chats.create(model=first["model"], config=first.get("config"))
    response = None
    for interaction in case["interactions"]:
        call = call_of(interaction)
        message = [genai.types.Part.model_validate(p) for p in call["contents"][-1]["parts"]]
        response = session.send_message(message, config=call.get("config"))
    check(case["expect"], observe([response]), len(case["interactions"]) - 1)


def refused(case, url):
    client = sdk(url)
    expect_error(case["expect"], lambda: client.models.generate_content(**call_of(case["interactions"][0])))


def wrong_key(case, url):
    client = sdk(url, "not-the-key")
    expect_error(case["expect"], lambda: client.models.generate_content(**call_of(case["interactions"][0])))


def stream_error(case, url):
    client = sdk(url)
    expect_error(case["expect"],
                 lambda: list(client.models.generate_content_stream(**call_of(case["interactions"][0]))))


SCENARIOS = [
    ("text-to-image (3:2, 2K)", "generate/text-to-image-pro", generate_each),
    ("image config: every aspect ratio of 2.5 Flash", "sizes/flash25-all-ratios", generate_each),
    ("edit a PNG", "edit/cat-photo-png", generate_each),
    ("edit a JPEG (guide example)", "edit/cat-photo-jpeg-docs", generate_each),
    ("two-turn chat with signatures sent back", "chat/photosynthesis-two-turns", chat),
    ("two-turn chat with thoughts, v1, URL-safe", "chat/python-sdk-urlsafe-replay-v1", chat),
    ("streaming: text chunks, then the image", "stream/text-chunks-then-image", stream),
    ("grounding with Google Search", "grounding/weather-web-search-docs", generate_each),
    ("grounding with image search", "grounding/image-search-butterfly-docs", generate_each),
    ("three thought images", "thinking/three-thought-images-macarons-docs", generate_each),
    ("blocked prompt", "outcomes/blocked-prompt", generate_each),
    ("lower-case 1k refused with 400", "validation/image-size-lowercase-1k", refused),
    ("roles not alternating refused with 400", "validation/roles-not-alternating", refused),
    ("2.1 answers JPEG; service_tier, store, an https file_uri", "generate/banana21-jpeg-with-2026-sdk-fields", generate_each),
    ("shut-down preview id: 404 NOT_FOUND", "validation/shut-down-model-404", refused),
    ("2K on 3.1 Flash Lite refused with 400", "validation/image-size-2k-on-lite", refused),
    ("a part without data refused with 400", "validation/part-without-data", refused),
    ("503 model overloaded", "errors/model-overloaded", refused),
    ("429 quota exhausted", "errors/quota-exhausted", refused),
    ("wrong API key", "errors/invalid-api-key", wrong_key),
    ("error in the middle of a stream", "stream/error-mid-stream", stream_error),
]


def serve(binary, fixtures, case_id):
    server = subprocess.Popen(
        [binary, "serve", "--quiet", "--api-key", KEY, "--fixtures", fixtures, "--case", case_id],
        stdout=subprocess.PIPE, text=True)
    line = server.stdout.readline().strip()
    prefix = "listening on "
    if not line.startswith(prefix):
        server.terminate()
        server.wait(timeout=10)
        raise AssertionError(f"unexpected first line from serve: {line!r}")
    return server, line[len(prefix):]


def main(argv):
    if len(argv) != 3:
        print(__doc__)
        return 2
    binary, fixtures = argv[1], argv[2]
    passed = failed = 0
    for label, case_id, run in SCENARIOS:
        server = None
        try:
            case = load_case(fixtures, case_id)
            server, url = serve(binary, fixtures, case_id)
            run(case, url)
            passed += 1
            print(f"ok   {label} ({case_id})")
        except Exception as e:  # noqa: BLE001 - report every failure and go on
            failed += 1
            print(f"FAIL {label} ({case_id}): {type(e).__name__}: {e}")
        finally:
            if server is not None:
                server.terminate()
                server.wait(timeout=10)
    print(f"google-genai {genai.__version__}")
    print(f"python-sdk: {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
