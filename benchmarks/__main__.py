"""`python -m benchmarks` (make bench) and `python -m benchmarks --smoke` (make bench-smoke)."""

from .runner import main

raise SystemExit(main())
