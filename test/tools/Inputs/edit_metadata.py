"""Rewrites a safetensors file's header: what a damaged or edited
checkpoint looks like to a loader.

usage: edit_metadata.py [--checksum=keep|update|drop|foreign] IN OUT EDIT...
  KEY=VALUE              sets a __metadata__ entry
  @TENSOR.FIELD=JSON     sets a field of a tensor's entry (shape, dtype, ...)

--checksum: what becomes of the file's graft.checksum (docs/CAPI.md):
  keep    (default) left as it was: the edit is damage the checksum reveals
  update  recomputed for the edited file, as a tool that edits checkpoints
          on purpose would: the loader's other checks see the edit
  drop    removed, Graft's other metadata kept: a damaged key name, which
          the loaders refuse
  foreign every graft.* entry removed, as in a file of another tool
"""
import json
import struct
import sys
import zlib

args = sys.argv[1:]
mode = "keep"
if args and args[0].startswith("--checksum="):
    mode = args.pop(0).split("=", 1)[1]
    if mode not in ("keep", "update", "drop", "foreign"):
        sys.exit("edit_metadata.py: --checksum takes keep, update, drop or foreign")
src, dst, *edits = args
with open(src, "rb") as f:
    data = f.read()
(n,) = struct.unpack("<Q", data[:8])
header = json.loads(data[8 : 8 + n])
for edit in edits:
    key, value = edit.split("=", 1)
    if key.startswith("@"):
        tensor, field = key[1:].rsplit(".", 1)
        header[tensor][field] = json.loads(value)
    else:
        header.setdefault("__metadata__", {})[key] = value
meta = header.get("__metadata__", {})
if mode == "drop":
    meta.pop("graft.checksum", None)
elif mode == "foreign":
    for k in [k for k in meta if k.startswith("graft.")]:
        del meta[k]
elif mode == "update":
    meta["graft.checksum"] = "crc32:00000000"
text = json.dumps(header, separators=(",", ":")).encode()
text += b" " * (-len(text) % 8)
out = struct.pack("<Q", len(text)) + text + data[8 + n :]
if mode == "update":
    # The CRC-32 of the whole file with the checksum's 8 digits as '0's.
    key = b'"graft.checksum":"crc32:'
    at = out.index(key) + len(key)
    out = out[:at] + b"%08x" % zlib.crc32(out) + out[at + 8 :]
with open(dst, "wb") as f:
    f.write(out)
