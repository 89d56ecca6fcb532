"""Shared test fixtures."""

import pytest
import torch


@pytest.fixture(scope="module")
def one_torch_thread():
    """Tiny nets gain nothing from intra-op threads; on a busy 2-core box they lose a lot.
    Modules opt in with ``pytestmark = pytest.mark.usefixtures("one_torch_thread")``."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture
def data_in_tmp(tmp_path, monkeypatch):
    """Generated data (caches, downloads) goes to a per-test folder, never the checkout's data/.
    Modules opt in with ``pytestmark = pytest.mark.usefixtures("data_in_tmp")``."""
    from ganlab_kit import runtime

    monkeypatch.setenv(runtime.DATA_ENV, str(tmp_path / "data"))


@pytest.fixture(scope="module")
def loaded_photos():
    """The first three built-in photos, decoded once per module."""
    from ganlab_kit.styles import photos

    return photos.load_photos(photos.builtin_photos()[:3])


@pytest.fixture(scope="module")
def browser():
    """One headless Chromium per module, for the real-browser tests (skips without it or Playwright)."""
    from browser_util import CHROMIUM, CHROMIUM_ARGS

    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} not found; install Debian's chromium: apt-get install chromium")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()
