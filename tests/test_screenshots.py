"""A real browser on a real stack: scripts/screenshots.py bakes a project,
starts Temporal (with its Web UI), the worker and Django, completes an
onboarding workflow, and checks the Django admin and the Temporal Web UI in
headless Chromium while it takes the docs' pictures (here into a temporary
directory); then it signs a visitor up, confirms their address by the
emailed link, follows their onboarding on the status page, finds their
welcome email, and resets their password by email. Select it with
`-m browser`."""

import struct

import pytest

from scripts import screenshots

# What the script saves, in order, and the docs show.
SCREENSHOTS = [
    "admin-action",
    "admin-action-done",
    "admin-onboarding-column",
    "admin-workflows",
    "temporal-workflows",
    "temporal-onboarding-timeline",
    "temporal-onboarding-history",
    "signup",
    "verify-email",
    "onboarding-status",
    "password-reset",
]


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG file"
    return struct.unpack(">II", data[16:24])


@pytest.mark.browser
def test_screenshots_of_a_completed_onboarding(generated_venv, tmp_path):
    if not screenshots.CHROMIUM.exists():
        pytest.skip(
            f"{screenshots.CHROMIUM} not found: install Debian's chromium "
            "(apt-get install chromium; .ci/run does)"
        )

    shots = screenshots.run(
        tmp_path / "shots", venv=generated_venv, work_dir=tmp_path / "work"
    )

    assert [shot.name for shot in shots] == SCREENSHOTS
    for shot in shots:
        data = shot.path.read_bytes()
        width, height = png_size(data)
        assert width >= 1280 and height >= 560, shot.name
        # A blank page compresses to a few kilobytes.
        assert len(data) > 20_000, shot.name


def test_docs_use_every_screenshot():
    """The committed pictures are the ones the script takes, and the docs
    show each of them."""
    committed = sorted(p.stem for p in screenshots.DOCS_SCREENSHOTS.glob("*.png"))
    pages = "".join(
        page.read_text()
        for page in screenshots.DOCS_SCREENSHOTS.parent.parent.rglob("*.md")
    )

    assert committed == sorted(SCREENSHOTS)
    for name in committed:
        assert f"screenshots/{name}.png" in pages, name
