"""Fail when generated code and its sources disagree, or when the published spec moved on.

    python codegen/drift.py                  # regenerate in a temp dir, diff with the commit
    python codegen/drift.py --spec URL|PATH  # compare a spec (the published one) with ours

The first form is `make drift` and a CI step: `thredfi_async/_generated/` and
`docs/operations.md` must be exactly what `make generate` writes from `openapi.yaml` and
`codegen/`, so a hand edit, a forgotten regeneration or a template change without its output
all fail. The second form is the scheduled spec-drift workflow: it compares the parsed content
(whitespace and key order aside) and lists what changed.
"""

from __future__ import annotations

import argparse
import difflib
import filecmp
import sys
import tempfile
from pathlib import Path
from typing import Any

import yaml

CODEGEN = Path(__file__).resolve().parent
ROOT = CODEGEN.parent
sys.path.insert(0, str(CODEGEN))

from generate import DOCS, PACKAGE, GenerationError, render  # noqa: E402


def _files(root: Path) -> set[Path]:
    return {
        p.relative_to(root) for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts
    }


def check_generated(root: Path = ROOT) -> list[str]:
    """Differences between the committed generated tree and a fresh generation."""
    problems: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        fresh = Path(tmp)
        render(fresh)
        for relative in (PACKAGE, DOCS):
            ours, theirs = root / relative, fresh / relative
            if theirs.is_file():
                pairs = [(Path(), ours, theirs)] if ours.is_file() else []
                if not ours.is_file():
                    problems.append(f"missing: {relative}")
            else:
                committed = _files(ours) if ours.exists() else set()
                expected = _files(theirs)
                problems += [f"missing: {relative / p}" for p in sorted(expected - committed)]
                problems += [f"not generated: {relative / p}" for p in sorted(committed - expected)]
                pairs = [(p, ours / p, theirs / p) for p in sorted(expected & committed)]
            for name, mine, generated in pairs:
                if not filecmp.cmp(mine, generated, shallow=False):
                    shown = relative / name if name != Path() else relative
                    diff = difflib.unified_diff(
                        generated.read_text(encoding="utf-8").splitlines(),
                        mine.read_text(encoding="utf-8").splitlines(),
                        f"generated/{shown}",
                        f"committed/{shown}",
                        lineterm="",
                        n=1,
                    )
                    problems.append(f"differs: {shown}\n" + "\n".join(list(diff)[:40]))
    return problems


def _load_spec(source: str) -> tuple[bytes, Any]:
    if source.startswith(("http://", "https://")):
        import httpx

        response = httpx.get(source, timeout=30, follow_redirects=True)
        response.raise_for_status()
        raw = response.content
    else:
        raw = Path(source).read_bytes()
    return raw, yaml.safe_load(raw)


def _diff(a: Any, b: Any, path: str = "") -> list[str]:
    if isinstance(a, dict) and isinstance(b, dict):
        out: list[str] = []
        for key in sorted(set(a) | set(b), key=str):
            sub = f"{path}/{str(key).replace('~', '~0').replace('/', '~1')}"
            if key not in a:
                out.append(f"added:   {sub}")
            elif key not in b:
                out.append(f"removed: {sub}")
            else:
                out += _diff(a[key], b[key], sub)
        return out
    if a != b:
        return [f"changed: {path or '/'}"]
    return []


def check_spec(source: str) -> list[str]:
    """Content differences between the spec at `source` and the vendored openapi.yaml."""
    _, theirs = _load_spec(source)
    ours = yaml.safe_load((ROOT / "openapi.yaml").read_bytes())
    return _diff(ours, theirs)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--spec", help="a spec URL or path to compare with openapi.yaml")
    args = parser.parse_args(argv)
    try:
        if args.spec:
            problems = check_spec(args.spec)
            what = f"{args.spec} differs from openapi.yaml"
            fix = "review the change, copy it to openapi.yaml (make spec-update), make generate"
        else:
            problems = check_generated()
            what = "generated code differs from openapi.yaml + codegen/"
            fix = "run `make generate` and commit the result (never edit _generated/ by hand)"
    except GenerationError as err:
        print(f"drift: generation failed: {err}", file=sys.stderr)
        return 2
    if problems:
        print(f"drift: {what} ({len(problems)} difference(s)); {fix}:", file=sys.stderr)
        for problem in problems[:200]:
            print(f"  {problem}", file=sys.stderr)
        return 1
    print("drift: none" if not args.spec else f"drift: {args.spec} matches openapi.yaml")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
