"""Checks and damages safetensors checkpoints, independently of Graft's own
readers (the Python standard library only).

usage:
  checkpoint.py verify FILE [--require-checksum]
      parses FILE, checks its structure (header length, JSON, every tensor's
      dtype, shape and byte range, the ranges tiling the data section) and,
      when it has one, its graft.checksum (docs/CAPI.md: the CRC-32 of zlib
      of the whole file with the checksum's 8 digits read as '0's); prints
      "ok: N tensors, steps S" or the problem, and exits 0 or 1
  checkpoint.py flip IN OUT WHERE OFFSET
      copies IN to OUT with one bit flipped: WHERE is data (OFFSET from the
      data section's start; negative from the file's end) or header (from
      the JSON's start)
  checkpoint.py keys FILE
      prints the tensors' names in the order of their bytes
  checkpoint.py rewrite IN OUT [--drop NAME] [--bump NAME] [--rename A=B]
      writes IN's tensors to OUT as another tool would (no metadata),
      without NAME (--drop), with 1.0 added to NAME's first F32 element
      (--bump) or with tensor A named B (--rename)
"""
import json
import struct
import sys
import zlib

SIZES = {"F32": 4, "F64": 8, "BF16": 2, "I64": 8, "I32": 4, "BOOL": 1}
KEY = b'"graft.checksum":"crc32:'


class Damaged(Exception):
    pass


def verify(path, require_checksum=False):
    """The header of a whole, well-formed checkpoint; raises Damaged."""
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 8:
        raise Damaged("%d bytes, shorter than the header length" % len(data))
    (n,) = struct.unpack("<Q", data[:8])
    if n > len(data) - 8:
        raise Damaged("header of %d bytes in a file of %d" % (n, len(data)))
    try:
        header = json.loads(data[8 : 8 + n])
    except ValueError as e:
        raise Damaged("the header is not JSON: %s" % e)
    body = len(data) - 8 - n
    ranges = []
    for name, t in header.items():
        if name == "__metadata__":
            continue
        numel = 1
        for d in t["shape"]:
            numel *= d
        b, e = t["data_offsets"]
        if e - b != numel * SIZES[t["dtype"]] or not 0 <= b <= e <= body:
            raise Damaged("tensor %s: bad byte range [%d, %d)" % (name, b, e))
        ranges.append((b, e))
    ranges.sort()
    end = 0
    for b, e in ranges:
        if b != end:
            raise Damaged("the tensors' bytes do not tile the data section")
        end = e
    if end != body:
        raise Damaged("%d bytes of data, the tensors hold %d" % (body, end))
    meta = header.get("__metadata__", {})
    stored = meta.get("graft.checksum")
    if stored is None:
        if require_checksum:
            raise Damaged("no graft.checksum")
        return header
    if data.count(KEY) != 1:
        raise Damaged("graft.checksum is not written once")
    at = data.index(KEY) + len(KEY)
    computed = "crc32:%08x" % zlib.crc32(data[:at] + b"00000000" + data[at + 8 :])
    if stored != computed:
        raise Damaged("checksum mismatch (stored %s, computed %s)" % (stored, computed))
    return header


def main(argv):
    if argv[:1] == ["verify"] and len(argv) in (2, 3):
        try:
            header = verify(argv[1], argv[2:] == ["--require-checksum"])
        except (Damaged, OSError, KeyError, TypeError, ValueError) as e:
            print("damaged: %s: %s" % (argv[1], e))
            return 1
        meta = header.get("__metadata__", {})
        print("ok: %d tensors, steps %s" % (len(header) - ("__metadata__" in header),
                                             meta.get("graft.steps", "?")))
        return 0
    if argv[:1] == ["flip"] and len(argv) == 5:
        with open(argv[1], "rb") as f:
            data = bytearray(f.read())
        (n,) = struct.unpack("<Q", data[:8])
        offset = int(argv[4])
        if argv[3] == "data":
            at = 8 + n + offset if offset >= 0 else len(data) + offset
        elif argv[3] == "header":
            at = 8 + offset
        else:
            return 2
        data[at] ^= 0x10
        with open(argv[2], "wb") as f:
            f.write(data)
        return 0
    if argv[:1] == ["keys"] and len(argv) == 2:
        header = verify(argv[1])
        tensors = [(t["data_offsets"], name) for name, t in header.items()
                   if name != "__metadata__"]
        for _, name in sorted(tensors):
            print(name)
        return 0
    if argv[:1] == ["rewrite"] and len(argv) in (3, 5, 7, 9):
        header = verify(argv[1])
        with open(argv[1], "rb") as f:
            data = f.read()
        (n,) = struct.unpack("<Q", data[:8])
        body = data[8 + n :]
        options = dict(zip(argv[3::2], argv[4::2]))
        out_header, out_body = {}, b""
        for name, t in sorted(header.items(), key=lambda kv: kv[1].get("data_offsets", [0])):
            if name == "__metadata__" or name == options.get("--drop"):
                continue
            b, e = t["data_offsets"]
            chunk = bytearray(body[b:e])
            if name == options.get("--bump"):
                (x,) = struct.unpack("<f", chunk[:4])
                chunk[:4] = struct.pack("<f", x + 1.0)
            old, _, new = options.get("--rename", "=").partition("=")
            if name == old:
                name = new
            out_header[name] = {"dtype": t["dtype"], "shape": t["shape"],
                                "data_offsets": [len(out_body), len(out_body) + len(chunk)]}
            out_body += bytes(chunk)
        text = json.dumps(out_header).encode()
        text += b" " * (-len(text) % 8)
        with open(argv[2], "wb") as f:
            f.write(struct.pack("<Q", len(text)) + text + out_body)
        return 0
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
