"""Keep Hypothesis from loading its entry-point plugins in the test process.

Importing Hypothesis (schemathesis does) otherwise runs trio's plugin, which makes trio's
scheduler deterministic for the rest of the session: tests elsewhere that rely on trio's usual
randomised scheduling to overlap their requests then stop overlapping (tests/test_tokens.py).
This conftest is imported before test_schemathesis.py imports schemathesis.
"""

import os

os.environ.setdefault("HYPOTHESIS_NO_PLUGINS", "1")
