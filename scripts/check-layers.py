#!/usr/bin/env python3
"""Checks the crate's module layering (docs/architecture.md): every top-level module of
src/ may refer only to modules below it in LAYERS, so there is no import circle and no
arrow back up (the core never names the runtime, the runtime never names the event API).

It reads every `crate::<module>` path in src/, comments and doc text excluded, and fails
listing each reference that points up or sideways. Run by .ci/run.
"""
import pathlib
import re
import sys

# Lowest first. A module may name only modules listed before it.
LAYERS = [
    # leaves
    "close_code", "http_syntax", "random", "read_size",
    "extension", "error",
    # the sans-IO core
    "frame", "deflate", "config", "protocol", "handshake",
    # drivers and layers above the core
    "tls", "blocking", "tokio", "runtime", "events", "socketio", "redis",
]
CORE = set(LAYERS[: LAYERS.index("handshake") + 1])

src = pathlib.Path(__file__).resolve().parent.parent / "src"

# The crate root's re-exports hide the real module (crate::Config is config's): resolve
# the ones lib.rs makes.
root_names = {}
for source, names in re.findall(r"pub use ([a-z_]+)::\{?([^;]*?)\}?;", (src / "lib.rs").read_text()):
    for name in re.split(r"[,\s]+", names):
        if name:
            root_names[name] = source

reference = re.compile(r"\bcrate::([A-Za-z_][A-Za-z0-9_]*)")
failures = []
for path in sorted(src.rglob("*.rs")):
    relative = path.relative_to(src)
    if relative.name == "lib.rs":
        continue
    module = relative.parts[0].removesuffix(".rs")
    if module not in LAYERS:
        failures.append(f"{relative}: module {module!r} is not placed in LAYERS")
        continue
    rank = LAYERS.index(module)
    for number, line in enumerate(path.read_text().splitlines(), 1):
        code = line.split("//", 1)[0]
        for name in reference.findall(code):
            target = root_names.get(name, name)
            if target not in LAYERS or target == module or LAYERS.index(target) < rank:
                continue
            through = f", through crate::{name}" if target != name else ""
            kind = "the core names a layer above it" if module in CORE and target not in CORE else "arrow up"
            failures.append(f"{relative}:{number}: {module} -> {target} ({kind}{through})")

if failures:
    print("layering violations:")
    print("\n".join("  " + f for f in failures))
    sys.exit(1)
print(f"layering ok: {len(LAYERS)} modules, no reference up or sideways")
