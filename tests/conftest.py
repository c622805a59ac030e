"""pytest configuration for tests/.

Only the browser test (tests/test_browser.py) uses what is here; other test modules need nothing.
"""

# --- browser test (tests/test_browser.py) ------------------------------------------------------

# The browser test's fixture notebooks break on purpose (a cell that raises, a widget that cannot
# render); nbval (--nbval-lax in pyproject's addopts) must not collect them as tests.
collect_ignore_glob = ["browser_fixtures/*"]


def pytest_addoption(parser):
    parser.addoption(
        "--update-screenshots", action="store_true", default=False,
        help="browser test: write each passing lesson's screenshot to docs/screenshots/ "
             "(otherwise they go to test-artifacts/browser/, which git ignores)",
    )
