#!/usr/bin/env python3
"""Counts the public items of rfc6455 from rustdoc JSON (see scripts/public-api.sh)."""
import json, sys, collections
doc = json.load(open(sys.argv[1]))
index = doc["index"]; paths = doc["paths"]
root = doc["root"]
seen = {}
def visit(item_id, path):
    item = index.get(str(item_id))
    if item is None: return
    inner = item["inner"]
    kind = next(iter(inner))
    if kind == "module":
        for child in inner["module"]["items"]:
            c = index.get(str(child))
            if c is None: continue
            name = c.get("name")
            ck = next(iter(c["inner"]))
            if ck == "use":
                u = c["inner"]["use"]
                target = u.get("id")
                nm = u["name"]
                if target is not None and not u.get("is_glob"):
                    t = index.get(str(target))
                    if t is not None:
                        visit_named(target, path + [nm])
                continue
            if c.get("visibility") != "public": continue
            visit_named(child, path + [name])
    
def visit_named(item_id, path):
    item = index.get(str(item_id))
    if item is None: return
    if item.get("attrs") and any("doc(hidden)" in str(a) or "hidden" in str(a) for a in item["attrs"]): return
    kind = next(iter(item["inner"]))
    seen.setdefault("::".join(path), (kind, item_id))
    if kind == "module":
        visit(item_id, path)
visit(root, ["rfc6455"])
kinds = collections.Counter(k for k,_ in seen.values())
# methods on public types (inherent impls only, public)
methods = []
done_ids = set()
for p,(k,iid) in sorted(seen.items(), key=lambda kv: len(kv[0])):
    if iid in done_ids: continue
    done_ids.add(iid)
    if k in ("struct","enum"):
        inner = index[str(iid)]["inner"][k]
        for impl_id in inner.get("impls", []):
            impl = index.get(str(impl_id))
            if not impl: continue
            im = impl["inner"]["impl"]
            if im.get("trait") is not None: continue
            for m in im["items"]:
                mi = index.get(str(m))
                if mi and mi.get("visibility")=="public":
                    if mi.get("attrs") and any("hidden" in str(a) for a in mi["attrs"]): continue
                    methods.append(p+"::"+mi["name"])
by_target = collections.defaultdict(list)
for p,(k,iid) in seen.items(): by_target[iid].append(p)
dups = {i:ps for i,ps in by_target.items() if len(ps)>1}
if "-v" in sys.argv:
    for p,(k,_) in sorted(seen.items()): print(k, p)
    for m in sorted(methods): print("method", m)
print("paths:", len(seen), dict(kinds))
print("distinct items:", len(by_target))
print("public inherent associated items (methods, consts), per distinct type:", len(methods))
print("items at more than one path:", len(dups))
for ps in dups.values(): print("   ", " = ".join(sorted(ps)))
