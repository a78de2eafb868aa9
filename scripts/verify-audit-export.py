#!/usr/bin/env python3
"""Verify a Towline audit export (NDJSON) with the Python standard library only.

    python3 scripts/verify-audit-export.py export.ndjson [--public-key BASE64]
    python3 scripts/verify-audit-export.py --canonicalize values.json   # RFC 8785 of each value, one per line

Independent of Towline's code: it follows docs/audit.md, which defines the record format and the hash rule

    hash = hex(SHA-256(UTF-8(prev \\n stream \\n revision \\n id \\n type \\n JCS(data) \\n JCS(metadata without hash))))

and checks every stream's chain (from the `prev` of its first record when the export starts past revision 0),
the Ed25519 signature and sequence of every ledger checkpoint, and that each checkpointed head is in the file
with the signed hash. Prints a JSON summary; exit status 0 when everything verifies, 1 when something does not,
2 when the file or the arguments are unusable.
"""

import hashlib
import json
import math
import sys

GENESIS = "0" * 64
CHECKPOINT = "LedgerCheckpointRecorded"


# --- RFC 8785 (JSON Canonicalization Scheme) ---------------------------------------------------------------

def es_number(value):
    """A number as ECMAScript's Number.prototype.toString writes it (RFC 8785 section 3.2.2.3)."""
    if isinstance(value, bool):
        raise TypeError("not a number")
    if isinstance(value, int):
        # JSON.parse reads every number as a double: past 2^53 the integer is what the double holds.
        if abs(value) <= 2 ** 53:
            return str(value)
        value = float(value)
    if math.isnan(value) or math.isinf(value):
        raise ValueError("NaN and Infinity are not JSON")
    if value == 0:
        return "0"  # also -0
    sign = "-" if value < 0 else ""
    # repr gives the shortest digits that round-trip, as ECMAScript does; only the layout differs.
    mantissa, _, exponent = repr(abs(value)).partition("e")
    integer, _, fraction = mantissa.partition(".")
    digits = (integer + fraction).lstrip("0")
    point = len(integer) + (int(exponent) if exponent else 0)  # decimal point after this many digits of integer+fraction
    point -= len(integer + fraction) - len((integer + fraction).lstrip("0"))
    digits = digits.rstrip("0") or "0"
    k, n = len(digits), point
    if k <= n <= 21:
        text = digits + "0" * (n - k)
    elif 0 < n <= 21:
        text = digits[:n] + "." + digits[n:]
    elif -6 < n <= 0:
        text = "0." + "0" * (-n) + digits
    else:
        e = n - 1
        text = digits[0] + ("." + digits[1:] if k > 1 else "") + "e" + ("+" if e > 0 else "-") + str(abs(e))
    return sign + text


def es_string(text):
    out = ['"']
    for ch in text:
        code = ord(ch)
        if ch == '"':
            out.append('\\"')
        elif ch == "\\":
            out.append("\\\\")
        elif ch == "\b":
            out.append("\\b")
        elif ch == "\f":
            out.append("\\f")
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\r":
            out.append("\\r")
        elif ch == "\t":
            out.append("\\t")
        elif code < 0x20:
            out.append("\\u%04x" % code)
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def utf16_key(key):
    # Keys sort by their UTF-16 code units (RFC 8785 section 3.2.3): astral characters sort as surrogates,
    # before U+E000..U+FFFF, unlike a sort by code points.
    return key.encode("utf-16-be", "surrogatepass")


def jcs(value):
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, (int, float)):
        return es_number(value)
    if isinstance(value, str):
        return es_string(value)
    if isinstance(value, list):
        return "[" + ",".join(jcs(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ",".join(es_string(k) + ":" + jcs(value[k]) for k in sorted(value, key=utf16_key)) + "}"
    raise TypeError("not JSON: %r" % (value,))


def utf8(text):
    # Like Node's UTF-8 encoder: a lone surrogate becomes U+FFFD.
    return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace").encode("utf-8")


def chain_hash(prev, record, revision=None):
    metadata = {k: v for k, v in record["metadata"].items() if k != "hash"}
    content = "\n".join([
        prev,
        record["stream"],
        str(record["revision"] if revision is None else revision),
        record["id"],
        record["type"],
        jcs(record["data"]),
        jcs(metadata),
    ])
    return hashlib.sha256(utf8(content)).hexdigest()


# --- Ed25519 verification (RFC 8032 section 6, reference code) -----------------------------------------------

P = 2 ** 255 - 19
L = 2 ** 252 + 27742317777372353535851937790883648493
D = -121665 * pow(121666, P - 2, P) % P
SQRT_M1 = pow(2, (P - 1) // 4, P)
G_Y = 4 * pow(5, P - 2, P) % P


def _add(p, q):
    a = (p[1] - p[0]) * (q[1] - q[0]) % P
    b = (p[1] + p[0]) * (q[1] + q[0]) % P
    c = 2 * p[3] * q[3] * D % P
    d = 2 * p[2] * q[2] % P
    e, f, g, h = b - a, d - c, d + c, b + a
    return (e * f % P, g * h % P, f * g % P, e * h % P)


def _mul(s, p):
    q = (0, 1, 1, 0)
    while s > 0:
        if s & 1:
            q = _add(q, p)
        p = _add(p, p)
        s >>= 1
    return q


def _equal(p, q):
    return (p[0] * q[2] - q[0] * p[2]) % P == 0 and (p[1] * q[2] - q[1] * p[2]) % P == 0


def _recover_x(y, sign):
    if y >= P:
        return None
    x2 = (y * y - 1) * pow(D * y * y + 1, P - 2, P)
    if x2 == 0:
        return None if sign else 0
    x = pow(x2, (P + 3) // 8, P)
    if (x * x - x2) % P != 0:
        x = x * SQRT_M1 % P
    if (x * x - x2) % P != 0:
        return None
    if (x & 1) != sign:
        x = P - x
    return x


def _decompress(data):
    if len(data) != 32:
        return None
    y = int.from_bytes(data, "little")
    sign = y >> 255
    y &= (1 << 255) - 1
    x = _recover_x(y, sign)
    return None if x is None else (x, y, 1, x * y % P)


G = (_recover_x(G_Y, 0), G_Y, 1, _recover_x(G_Y, 0) * G_Y % P)


def ed25519_verify(public, message, signature):
    if len(public) != 32 or len(signature) != 64:
        return False
    a = _decompress(public)
    r = _decompress(signature[:32])
    if a is None or r is None:
        return False
    s = int.from_bytes(signature[32:], "little")
    if s >= L:
        return False
    h = int.from_bytes(hashlib.sha512(signature[:32] + public + message).digest(), "little") % L
    return _equal(_mul(s, G), _add(r, _mul(h, a)))


def b64decode(text):
    import base64
    return base64.b64decode(text, validate=True)


# --- The export ------------------------------------------------------------------------------------------------

def records(path):
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            record = json.loads(line)
            for field in ("stream", "revision", "id", "type", "data", "metadata", "prev"):
                if field not in record:
                    raise ValueError("line %d: no %s" % (number, field))
            yield record


def verify(path, public_key=None):
    breaks = []
    pinned = b64decode(public_key) if public_key else None

    # 1. Ledger checkpoints: signature over JCS(data without signature), sequence 1, 2, 3... per ledger.
    expected = {}  # stream -> (revision, hash, ledger, sequence), the highest revision any checkpoint recorded
    sequences = {}
    checkpoints = 0
    for record in records(path):
        if record["type"] != CHECKPOINT:
            continue
        data = record["data"]
        checkpoints += 1
        sequence = data.get("sequence")
        if sequence != sequences.get(record["stream"], 0) + 1:
            breaks.append({"stream": record["stream"], "revision": record["revision"], "kind": "checkpoint_missing",
                           "detail": "checkpoint %s follows %s" % (sequence, sequences.get(record["stream"], 0))})
        sequences[record["stream"]] = sequence
        body = {k: v for k, v in data.items() if k != "signature"}
        key = pinned or b64decode(data.get("publicKey", ""))
        if not ed25519_verify(key, utf8(jcs(body)), b64decode(data.get("signature", ""))):
            breaks.append({"stream": record["stream"], "revision": record["revision"], "kind": "signature_invalid",
                           "detail": "checkpoint %s is not signed by the key" % sequence})
            continue
        for head in data.get("streams", []):
            known = expected.get(head["stream"])
            if known is None or head["revision"] > known[0]:
                expected[head["stream"]] = (head["revision"], head["hash"], record["stream"], sequence)

    # 2. Every stream's chain, from revision 0 or from the prev of its first record.
    state = {}  # stream -> (next revision, prev hash) or None once broken
    heads = {}
    anchored = {}
    count = 0
    for record in records(path):
        count += 1
        stream, revision = record["stream"], record["revision"]
        heads[stream] = max(heads.get(stream, -1), revision)
        want = expected.get(stream)
        if want and want[0] == revision and want[1] != record["metadata"].get("hash"):
            breaks.append({"stream": stream, "revision": revision, "kind": "checkpoint_mismatch",
                           "detail": "checkpoint %s of %s signed another hash" % (want[3], want[2])})
        if stream not in state:
            if revision > 0:
                anchored[stream] = revision
            start = GENESIS if revision == 0 else record["prev"]
            state[stream] = None if start is None else (revision, start)
        current = state[stream]
        if current is None:
            continue
        next_revision, prev = current
        computed = chain_hash(prev, record)
        if revision != next_revision or computed != record["metadata"].get("hash"):
            breaks.append({"stream": stream, "revision": revision, "kind": "chain_broken",
                           "detail": "expected revision %d, found %d" % (next_revision, revision) if revision != next_revision
                           else "hash mismatch: recorded %s, computed %s" % (record["metadata"].get("hash"), computed)})
            state[stream] = None
            continue
        state[stream] = (revision + 1, computed)

    # 3. A full export holds every checkpointed head: a missing stream was removed, a short one cut.
    if not anchored:
        for stream, (revision, _hash, ledger, sequence) in expected.items():
            if stream not in heads:
                breaks.append({"stream": stream, "revision": None, "kind": "stream_missing",
                               "detail": "checkpoint %s of %s recorded it" % (sequence, ledger)})
            elif heads[stream] < revision:
                breaks.append({"stream": stream, "revision": revision, "kind": "truncated",
                               "detail": "checkpoint %s of %s recorded revision %d" % (sequence, ledger, revision)})

    return {
        "records": count,
        "streams_checked": len(heads),
        "checkpoints": checkpoints,
        "ok": not breaks,
        "partial": bool(anchored),
        "anchored": sorted(anchored.items()),
        "key": "pinned" if pinned else "embedded",
        "breaks": breaks,
    }


def main(argv):
    if len(argv) >= 2 and argv[0] == "--canonicalize":
        with open(argv[1], encoding="utf-8") as handle:
            for value in json.load(handle):
                text = jcs(value)
                print(json.dumps({"jcs": text, "sha256": hashlib.sha256(utf8(text)).hexdigest()}))
        return 0
    if not argv or argv[0].startswith("-"):
        print(__doc__, file=sys.stderr)
        return 2
    public_key = None
    if len(argv) == 3 and argv[1] == "--public-key":
        public_key = argv[2]
    elif len(argv) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    try:
        result = verify(argv[0], public_key)
    except (OSError, ValueError, KeyError, TypeError) as error:
        print("cannot verify %s: %s" % (argv[0], error), file=sys.stderr)
        return 2
    print(json.dumps(result, indent=2))
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
