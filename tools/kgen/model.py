"""model.py - kgen's view of Kafka's message JSON: versions, fields,
structs and messages, and the C types, defaults and sizes derived from them.
Used by emit.py (the C emitter) and kgen.py (the file generator)."""

import json
import os
import re
import sys

MAXV = 0x7FFF  # "N+" upper bound

C_KEYWORDS = {
    "auto", "break", "case", "char", "const", "continue", "default", "do", "double", "else",
    "enum", "extern", "float", "for", "goto", "if", "inline", "int", "long", "register",
    "restrict", "return", "short", "signed", "sizeof", "static", "struct", "switch",
    "typedef", "union", "unsigned", "void", "volatile", "while", "bool", "true", "false",
}

PRIM = {
    # type: (C type, reader, writer, fixed wire size)
    "int8": ("int8_t", "i8", 1),
    "int16": ("int16_t", "i16", 2),
    "uint16": ("uint16_t", "u16", 2),
    "int32": ("int32_t", "i32", 4),
    "int64": ("int64_t", "i64", 8),
    "float64": ("double", "f64", 8),
    "bool": ("bool", "bool", 1),
    "uuid": ("struct sl_uuid", "uuid", 16),
}
BLOBS = ("string", "bytes", "records")


def strip_comments(text):
    """Removes // comments outside JSON strings."""
    out = []
    i, n = 0, len(text)
    in_str = False
    while i < n:
        c = text[i]
        if in_str:
            out.append(c)
            if c == "\\" and i + 1 < n:
                out.append(text[i + 1])
                i += 2
                continue
            if c == '"':
                in_str = False
            i += 1
            continue
        if c == '"':
            in_str = True
            out.append(c)
            i += 1
            continue
        if c == "/" and i + 1 < n and text[i + 1] == "/":
            j = text.find("\n", i)
            i = n if j < 0 else j
            continue
        out.append(c)
        i += 1
    return "".join(out)


def load_json(path):
    with open(path, encoding="utf-8") as f:
        return json.loads(strip_comments(f.read()))


def parse_versions(s):
    """'3+' -> (3, MAXV); '0-7' -> (0, 7); '5' -> (5, 5); 'none'/None -> None."""
    if s is None:
        return None
    s = str(s).strip()
    if s == "none" or s == "":
        return None
    if s.endswith("+"):
        return (int(s[:-1]), MAXV)
    if "-" in s:
        a, b = s.split("-", 1)
        return (int(a), int(b))
    return (int(s), int(s))


def vand(a, b):
    if a is None or b is None:
        return None
    lo, hi = max(a[0], b[0]), min(a[1], b[1])
    return (lo, hi) if lo <= hi else None


def vminus(a, b):
    """a minus b, where the result must be one interval (b is a suffix or absent)."""
    if a is None:
        return None
    if b is None:
        return a
    x = vand(a, b)
    if x is None:
        return a
    if x[0] > a[0] and x[1] >= a[1]:
        return (a[0], x[0] - 1)
    if x[0] <= a[0] and x[1] < a[1]:
        return (x[1] + 1, a[1])
    if x == a:
        return None
    raise ValueError("version ranges %r - %r are not one interval" % (a, b))


def cond(rng, ctx):
    """C condition on `version` for rng, knowing version is within ctx.
    Returns None when never true, "" when always true."""
    x = vand(rng, ctx)
    if x is None:
        return None
    parts = []
    if x[0] > ctx[0]:
        parts.append("version >= %d" % x[0])
    if x[1] < ctx[1]:
        parts.append("version <= %d" % x[1])
    return " && ".join(parts)


def bool_expr(rng, ctx):
    c = cond(rng, ctx)
    if c is None:
        return "false"
    if c == "":
        return "true"
    return "(%s)" % c


def cstr(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def comment(s):
    s = " ".join(str(s).split())
    return s.replace("*/", "* /")


class Field:
    def __init__(self, spec, msg):
        self.name = spec["name"]
        self.cname = self.name + "_" if self.name in C_KEYWORDS else self.name
        t = spec["type"]
        self.is_array = t.startswith("[]")
        self.elem = t[2:] if self.is_array else t
        self.is_struct = self.elem not in PRIM and self.elem not in BLOBS
        self.about = spec.get("about", "")
        tagged = parse_versions(spec.get("taggedVersions"))
        versions = parse_versions(spec.get("versions", spec.get("taggedVersions")))
        self.versions = vand(versions, msg.valid)
        self.tagged = vand(tagged, self.versions)
        self.regular = vminus(self.versions, tagged)
        self.tag = int(spec["tag"]) if "tag" in spec else None
        self.nullable = parse_versions(spec.get("nullableVersions"))
        self.flex_none = spec.get("flexibleVersions") == "none"
        self.default = spec.get("default")
        self.struct = None  # resolved Struct for struct types
        if self.is_struct:
            self.struct = msg.define_struct(self.elem, spec.get("fields"), self.versions)


class Struct:
    def __init__(self, cname, versions):
        self.cname = cname  # C struct tag, e.g. sl_ProduceRequest_TopicProduceData
        self.fields = []
        self.versions = versions  # versions in which this struct may be encoded
        self.need_is_default = False


class Message:
    def __init__(self, path, spec):
        self.path = path
        self.jname = os.path.basename(path)
        self.name = spec["name"]
        self.type = spec["type"]
        self.api_key = spec.get("apiKey")
        self.valid = parse_versions(spec["validVersions"])
        flex = parse_versions(spec.get("flexibleVersions"))
        self.flex_lo = flex[0] if flex else None
        self.listeners = spec.get("listeners", [])
        self.structs = {}  # JSON type name -> Struct
        self.order = []  # Structs, dependencies first
        self.common = {cs["name"]: cs for cs in spec.get("commonStructs", [])}
        self.top = Struct("sl_" + self.name, self.valid)
        self.top.fields = self._fields(spec.get("fields", []))
        for cs in spec.get("commonStructs", []):
            if cs["name"] not in self.structs:
                self.define_struct(cs["name"], None, None)
        self.order.append(self.top)

    def _fields(self, specs):
        return [Field(f, self) for f in specs]

    def define_struct(self, tname, fields, versions):
        if fields is None:
            if tname in self.structs:
                st = self.structs[tname]
                if versions is not None:
                    st.versions = vunion(st.versions, versions)
                return st
            if tname not in self.common:
                raise ValueError("%s: unknown type %s" % (self.jname, tname))
            fields = self.common[tname]["fields"]
            if versions is None:
                versions = self.valid
        elif tname in self.structs:
            raise ValueError("%s: struct %s defined twice" % (self.jname, tname))
        st = Struct("sl_%s_%s" % (self.name, tname), versions or self.valid)
        self.structs[tname] = st
        st.fields = self._fields(fields)
        self.order.append(st)
        return st

    def flexible(self):
        return self.flex_lo is not None


def vunion(a, b):
    if a is None:
        return b
    if b is None:
        return a
    return (min(a[0], b[0]), max(a[1], b[1]))


# ---------------------------------------------------------------- C emission


def is_null_default(f):
    return f.default is not None and str(f.default).lower() in ("null", "none")


def min_size(st, msg, v, seen=()):
    """Minimum wire bytes of struct st at version v."""
    flex = msg.flex_lo is not None and v >= msg.flex_lo
    n = 1 if flex else 0
    for f in st.fields:
        if f.regular is None or not (f.regular[0] <= v <= f.regular[1]):
            continue
        compact = flex and not f.flex_none
        nullable = f.nullable is not None and f.nullable[0] <= v <= f.nullable[1]
        if f.is_array:
            n += 1 if compact else 4
        elif f.elem in PRIM:
            n += PRIM[f.elem][2]
        elif f.elem == "string":
            n += 1 if compact else 2
        elif f.elem in BLOBS:
            n += 1 if compact else 4
        elif nullable:
            n += 1
        elif f.struct in seen:
            n += 1
        else:
            n += min_size(f.struct, msg, v, seen + (st,))
    return n


def elem_min_size(f, msg):
    """Minimum wire bytes of one element of array field f over its versions."""
    rng = f.versions
    if f.elem in PRIM:
        return PRIM[f.elem][2]
    if f.elem in ("string", "bytes", "records"):
        # one bound for every version: the smallest, so 1 (a compact length) as
        # soon as any version of the field is flexible (an empty compact string
        # is one byte: 2 would refuse valid requests, e.g. DeleteGroups v2)
        flex_any = msg.flex_lo is not None and min(rng[1], msg.valid[1]) >= msg.flex_lo
        return 1 if flex_any else 2
    sizes = [min_size(f.struct, msg, v) for v in range(rng[0], min(rng[1], msg.valid[1]) + 1)]
    return max(1, min(sizes)) if sizes else 1


def ctype(f):
    if f.elem in PRIM:
        return PRIM[f.elem][0]
    if f.elem in ("string", "bytes"):
        return "struct sl_slice"
    if f.elem == "records":
        return "struct sl_records"
    return "struct " + f.struct.cname


def int_literal(f):
    v = int(str(f.default), 0)
    t = PRIM[f.elem][0]
    if v == 0:
        return None
    if f.elem == "int64":
        return "INT64_C(%d)" % v if v > -(1 << 63) else "INT64_MIN"
    if f.elem == "int32" and v == -(1 << 31):
        return "INT32_MIN"
    return "(%s)%d" % (t, v)


def default_value(f):
    """C expression for a scalar default, or None for zero."""
    d = f.default
    if d is None:
        return None
    if f.elem == "bool":
        return "true" if str(d).lower() == "true" else None
    if f.elem == "float64":
        return None if float(d) == 0 else repr(float(d))
    if f.elem == "uuid":
        return None
    return int_literal(f)


def differs_expr(f, m="m->"):
    """C expression: field differs from its default (for tagged fields)."""
    x = m + f.cname
    if f.is_array:
        return "%s_n %s" % (x, ">= 0" if is_null_default(f) else "> 0")
    if f.elem == "uuid":
        return "!sl_kp_uuid_is_zero(&%s)" % x
    if f.elem in PRIM:
        d = default_value(f)
        return "%s != %s" % (x, d or ("false" if f.elem == "bool" else "0"))
    if f.elem in ("string", "bytes"):
        if is_null_default(f):
            return "%s.p != NULL" % x
        if f.default:
            return "!(%s.p && sl_slice_eq_cstr(%s, %s))" % (x, x, cstr(str(f.default)))
        return "%s.len != 0" % x
    if f.elem == "records":
        return "(%s.mem.p != NULL || %s.chain != NULL)" % (x, x)
    if is_null_default(f):
        return "!%s_null" % x
    f.struct.need_is_default = True
    s = "!%s_is_default(&%s)" % (f.struct.cname, x)
    if f.nullable is not None:
        s = "(%s_null || %s)" % (x, s)
    return s


def mark_is_default(st, seen=None):
    seen = seen or set()
    if st.cname in seen:
        return
    seen.add(st.cname)
    for f in st.fields:
        if f.is_struct and not f.is_array and not is_null_default(f):
            f.struct.need_is_default = True
            mark_is_default(f.struct, seen)


