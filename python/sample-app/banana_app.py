"""A small application under test: it makes and edits images with google-genai.

Nothing in it knows about the fake server: the client is made from the environment
(GEMINI_API_KEY, and GOOGLE_GEMINI_BASE_URL when set), as in production.
"""

from google import genai
from google.genai import types

MODEL = "gemini-3.1-flash-image"


class NoImage(Exception):
    """The model answered without an image (a safety block, no image, ...)."""


def client() -> genai.Client:
    # Retries rate limits and overloads a few times, quickly (the production values would be
    # longer; the fake server answers at once).
    retry = types.HttpRetryOptions(attempts=3, initial_delay=0.01, max_delay=0.05)
    return genai.Client(http_options=types.HttpOptions(retry_options=retry))


def _image(response: types.GenerateContentResponse) -> bytes:
    for candidate in response.candidates or []:
        for part in (candidate.content.parts or []) if candidate.content else []:
            if part.inline_data and part.inline_data.data and not part.thought:
                return part.inline_data.data
    reasons = [str(c.finish_reason) for c in response.candidates or []]
    blocked = response.prompt_feedback.block_reason if response.prompt_feedback else None
    raise NoImage(f"no image: finish reasons {reasons}, prompt block {blocked}")


def make_image(prompt: str, aspect_ratio: str = "1:1") -> bytes:
    """An image for a prompt."""
    gemini = client()  # kept while in use: a google-genai Client closes its connections when dropped
    response = gemini.models.generate_content(
        model=MODEL,
        contents=prompt,
        config=types.GenerateContentConfig(
            response_modalities=["IMAGE"],
            image_config=types.ImageConfig(aspect_ratio=aspect_ratio),
        ),
    )
    return _image(response)


def edit_image(image: bytes, instruction: str, mime_type: str = "image/jpeg") -> bytes:
    """The image changed as the instruction says."""
    gemini = client()
    response = gemini.models.generate_content(
        model=MODEL,
        contents=[types.Part.from_bytes(data=image, mime_type=mime_type), instruction],
        config=types.GenerateContentConfig(response_modalities=["IMAGE"]),
    )
    return _image(response)
