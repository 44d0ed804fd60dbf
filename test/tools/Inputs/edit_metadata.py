"""Rewrites a safetensors file's header: what a damaged or edited
checkpoint looks like to a loader.

usage: edit_metadata.py IN OUT EDIT...
  KEY=VALUE              sets a __metadata__ entry
  @TENSOR.FIELD=JSON     sets a field of a tensor's entry (shape, dtype, ...)
"""
import json
import struct
import sys

src, dst, *edits = sys.argv[1:]
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
text = json.dumps(header, separators=(",", ":")).encode()
text += b" " * (-len(text) % 8)
with open(dst, "wb") as f:
    f.write(struct.pack("<Q", len(text)) + text + data[8 + n :])
