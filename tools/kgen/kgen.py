#!/usr/bin/python3
"""kgen - generates Sluice's C protocol codec from Apache Kafka's message JSON.

Usage: kgen.py <kafka-protocol dir> <output dir>

Reads <dir>/message/*.json (requests, responses, headers, data), <dir>/metadata/*.json
(KRaft metadata records), <dir>/group-coordinator/*.json (__consumer_offsets and
__transaction_state keys and values) and <dir>/errors.tsv, and writes into the output
dir exactly the files listed by plan(): one .h/.c per API, header, data, meta_records,
coord_records, errors, api, fill (test population) and all.h. Any other *.c/*.h file in
the output dir is removed, so the directory always equals one generation.

Output is deterministic: inputs are read in sorted order and nothing depends on time,
hashes or the environment. Python 3 standard library only.

See docs/codec.md for the C shape of the generated code.
"""

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
        flex_all = msg.flex_lo is not None and rng[0] >= msg.flex_lo
        return 1 if flex_all else 2
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


class Emitter:
    def __init__(self, msg):
        self.msg = msg

    def flex_decl(self):
        m = self.msg
        if m.flex_lo is None:
            return "    const bool flex = false;"
        if m.flex_lo <= m.valid[0]:
            return "    const bool flex = true;"
        return "    const bool flex = version >= %d;" % m.flex_lo

    def compact(self, f):
        return "false" if f.flex_none else "flex"

    # --- struct definition
    def struct_def(self, st):
        out = ["struct %s {" % st.cname]
        if not st.fields:
            out.append("    char unused_; /* no fields in any version */")
        for f in st.fields:
            about = comment(f.about)
            vs = "v%d+" % f.versions[0] if f.versions and f.versions[1] == MAXV else (
                "v%d-%d" % f.versions if f.versions else "no version")
            if f.tagged:
                vs += ", tag %d" % f.tag
            note = "%s: %s" % (vs, about) if about else vs
            if f.is_array:
                out.append("    %s *%s; /* %s */" % (ctype(f), f.cname, note))
                out.append("    int32_t %s_n; /* elements in %s; -1 = null */" % (f.cname, f.cname))
            else:
                out.append("    %s %s; /* %s */" % (ctype(f), f.cname, note))
                if f.is_struct and f.nullable is not None:
                    out.append("    bool %s_null; /* %s is null */" % (f.cname, f.cname))
        out.append("};")
        return "\n".join(out)

    def protos(self, st):
        c = st.cname
        return [
            "void %s_init(struct %s *m);" % (c, c),
            "int %s_decode(struct sl_kp_reader *r, int16_t version, struct %s *out);" % (c, c),
            "int %s_encode(struct sl_obuf *b, int16_t version, const struct %s *m);" % (c, c),
        ]

    # --- init
    def init_fn(self, st):
        o = ["void %s_init(struct %s *m)" % (st.cname, st.cname), "{",
             "    memset(m, 0, sizeof(*m));"]
        for f in st.fields:
            x = "m->" + f.cname
            if f.is_array:
                if is_null_default(f):
                    o.append("    %s_n = -1;" % x)
            elif f.elem in ("string", "bytes"):
                if not is_null_default(f):
                    o.append("    %s.p = (const uint8_t *)%s;" % (x, cstr(str(f.default or ""))))
                    if f.default:
                        o.append("    %s.len = %d;" % (x, len(str(f.default).encode())))
            elif f.elem == "records":
                pass
            elif f.elem in PRIM:
                d = default_value(f)
                if d:
                    o.append("    %s = %s;" % (x, d))
            else:
                o.append("    %s_init(&%s);" % (f.struct.cname, x))
                if is_null_default(f) and f.nullable is not None:
                    o.append("    %s_null = true;" % x)
        o.append("}")
        return "\n".join(o)

    # --- decode
    def read_value(self, f, dst, ind, nullable, compact):
        """Statements reading one non-array value of f's element type into dst."""
        p = " " * ind
        if f.elem in PRIM:
            return [p + "if (sl_kp_read_%s(r, &%s) < 0)" % (PRIM[f.elem][1], dst),
                    p + "    return SL_EFRAME;"]
        if f.elem in BLOBS:
            return [p + "if (sl_kp_read_%s(r, %s, %s, &%s) < 0)" % (f.elem, compact, nullable, dst),
                    p + "    return SL_EFRAME;"]
        return [p + "if (%s_decode(r, version, &%s) < 0)" % (f.struct.cname, dst),
                p + "    return SL_EFRAME;"]

    def read_field(self, f, ind):
        p = " " * ind
        x = "out->" + f.cname
        ctx = vand(f.regular, self.ctx) or self.ctx
        nullable = bool_expr(f.nullable, ctx) if f.nullable else "false"
        compact = self.compact(f)
        if f.is_array:
            o = [p + "{",
                 p + "    int32_t n;",
                 p + "    void *a;",
                 p + "    if (sl_kp_read_array_len(r, %s, %s, %d, &n) < 0 ||" % (
                     compact, nullable, elem_min_size(f, self.msg)),
                 p + "        sl_kp_alloc_array(r, n, sizeof(*%s), &a) < 0)" % x,
                 p + "        return SL_EFRAME;",
                 p + "    %s = a;" % x,
                 p + "    %s_n = n;" % x,
                 p + "    for (int32_t i = 0; i < n; i++) {"]
            o += self.read_value(f, x + "[i]", ind + 8, "false", compact)
            o += [p + "    }", p + "}"]
            return o
        if f.is_struct and f.nullable is not None:
            o = [p + "%s_null = false;" % x,
                 p + "if (%s) {" % nullable,
                 p + "    int8_t present;",
                 p + "    if (sl_kp_read_i8(r, &present) < 0)",
                 p + "        return SL_EFRAME;",
                 p + "    %s_null = present < 0;" % x,
                 p + "}",
                 p + "if (!%s_null) {" % x]
            o += self.read_value(f, x, ind + 4, nullable, compact)
            o.append(p + "}")
            return o
        return self.read_value(f, x, ind, nullable, compact)

    def decode_fn(self, st):
        self.ctx = st.versions
        c = st.cname
        o = ["int %s_decode(struct sl_kp_reader *r, int16_t version, struct %s *out)" % (c, c),
             "{", self.flex_decl(), "    (void)flex;", "    (void)version;", "    %s_init(out);" % c]
        for f in st.fields:
            cc = cond(f.regular, self.ctx)
            if cc is None:
                continue
            if cc == "":
                o += self.read_field(f, 4)
            else:
                o.append("    if (%s) {" % cc)
                o += self.read_field(f, 8)
                o.append("    }")
        tagged = sorted([f for f in st.fields if f.tagged and vand(f.tagged, self.ctx)],
                        key=lambda f: f.tag)
        if self.msg.flexible():
            if not tagged:
                o += ["    if (flex && sl_kp_skip_tags(r) < 0)", "        return SL_EFRAME;"]
            else:
                o += ["    if (flex) {",
                      "        uint32_t ntag;",
                      "        if (sl_kp_read_uvarint32(r, &ntag) < 0)",
                      "            return SL_EFRAME;",
                      "        for (uint32_t t = 0; t < ntag; t++) {",
                      "            uint32_t tag, size;",
                      "            if (sl_kp_read_tag(r, &tag, &size) < 0)",
                      "                return SL_EFRAME;",
                      "            struct sl_kp_reader sub = *r;",
                      "            sub.end = r->p + size;",
                      "            r->p += size;",
                      "            switch (tag) {"]
                for f in tagged:
                    cc = cond(f.tagged, self.ctx)
                    o.append("            case %d:" % f.tag)
                    call = "%s_read_%s(&sub, version, out) < 0" % (c, f.cname)
                    if cc:
                        call = "(%s) && %s" % (cc, call)
                    o += ["                if (%s)" % call,
                          "                    return sl_kp_fail(r, sub.err);",
                          "                break;"]
                o += ["            default:", "                break;", "            }",
                      "        }", "    }"]
        o += ["    return SL_OK;", "}"]
        return "\n".join(o)

    def tag_reader(self, st, f):
        self.ctx = f.tagged
        c = st.cname
        o = ["static int %s_read_%s(struct sl_kp_reader *r, int16_t version, struct %s *out)" % (
            c, f.cname, c), "{", "    const bool flex = true;", "    (void)version;", "    (void)flex;"]
        o += self.read_field(f, 4)
        o += ["    return SL_OK;", "}"]
        self.ctx = st.versions
        return "\n".join(o)

    # --- encode
    def write_value(self, f, src, ind, nullable, compact):
        p = " " * ind
        if f.elem == "uuid":
            call = "sl_kp_write_uuid(b, &%s)" % src
        elif f.elem in PRIM:
            call = "sl_kp_write_%s(b, %s)" % (PRIM[f.elem][1], src)
        elif f.elem == "records":
            call = "sl_kp_write_records(b, %s, %s, &%s)" % (compact, nullable, src)
        elif f.elem in BLOBS:
            call = "sl_kp_write_%s(b, %s, %s, %s)" % (f.elem, compact, nullable, src)
        else:
            call = "%s_encode(b, version, &%s)" % (f.struct.cname, src)
        return [p + "if ((rc = %s) < 0)" % call, p + "    return rc;"]

    def write_field(self, f, ind):
        p = " " * ind
        x = "m->" + f.cname
        ctx = vand(f.regular, self.ctx) or self.ctx
        nullable = bool_expr(f.nullable, ctx) if f.nullable else "false"
        compact = self.compact(f)
        if f.is_array:
            o = [p + "if ((rc = sl_kp_write_array_len(b, %s, %s, %s_n)) < 0)" % (compact, nullable, x),
                 p + "    return rc;",
                 p + "for (int32_t i = 0; i < %s_n; i++) {" % x]
            o += self.write_value(f, x + "[i]", ind + 4, "false", compact)
            o.append(p + "}")
            return o
        if f.is_struct and f.nullable is not None:
            o = [p + "if (%s && %s_null) {" % (nullable, x),
                 p + "    if ((rc = sl_kp_write_i8(b, -1)) < 0)",
                 p + "        return rc;",
                 p + "} else {",
                 p + "    if (%s && (rc = sl_kp_write_i8(b, 1)) < 0)" % nullable,
                 p + "        return rc;"]
            o += self.write_value(f, x, ind + 4, nullable, compact)
            o.append(p + "}")
            return o
        return self.write_value(f, x, ind, nullable, compact)

    def encode_fn(self, st):
        self.ctx = st.versions
        c = st.cname
        o = ["int %s_encode(struct sl_obuf *b, int16_t version, const struct %s *m)" % (c, c),
             "{", self.flex_decl(), "    int rc = 0;", "    (void)flex;", "    (void)version;", "    (void)m;"]
        for f in st.fields:
            cc = cond(f.regular, self.ctx)
            if cc is None:
                continue
            if cc == "":
                o += self.write_field(f, 4)
            else:
                o.append("    if (%s) {" % cc)
                o += self.write_field(f, 8)
                o.append("    }")
        tagged = sorted([f for f in st.fields if f.tagged and vand(f.tagged, self.ctx)],
                        key=lambda f: f.tag)
        if self.msg.flexible():
            if not tagged:
                o += ["    if (flex && (rc = sl_kp_write_uvarint32(b, 0)) < 0)", "        return rc;"]
            else:
                conds = []
                for f in tagged:
                    cc = cond(f.tagged, self.ctx)
                    d = differs_expr(f)
                    conds.append((f, "(%s) && %s" % (cc, d) if cc else d))
                o += ["    if (flex) {", "        uint32_t ntag = 0;"]
                for f, e in conds:
                    o += ["        if (%s)" % e, "            ntag++;"]
                o += ["        if ((rc = sl_kp_write_uvarint32(b, ntag)) < 0)",
                      "            return rc;"]
                for f, e in conds:
                    o += ["        if ((%s) &&" % e,
                          "            (rc = sl_kp_write_tagged(b, %d, %s_write_%s, version, m)) < 0)" % (
                              f.tag, c, f.cname),
                          "            return rc;"]
                o.append("    }")
        o += ["    return rc;", "}"]
        return "\n".join(o)

    def tag_writer(self, st, f):
        self.ctx = f.tagged
        c = st.cname
        o = ["static int %s_write_%s(struct sl_obuf *b, int16_t version, const void *vm)" % (
            c, f.cname), "{", "    const struct %s *m = vm;" % c, "    const bool flex = true;",
            "    int rc;", "    (void)version;", "    (void)flex;"]
        o += self.write_field(f, 4)
        o += ["    return 0;", "}"]
        self.ctx = st.versions
        return "\n".join(o)

    def is_default_fn(self, st):
        o = ["static bool %s_is_default(const struct %s *m)" % (st.cname, st.cname), "{"]
        parts = [differs_expr(f) for f in st.fields]
        if not parts:
            o.append("    (void)m;")
            o.append("    return true;")
        else:
            o.append("    return !(" + " ||\n             ".join(parts) + ");")
        o.append("}")
        return "\n".join(o)

    # --- fill (test population)
    def fill_fn(self, st):
        c = st.cname
        o = ["static void %s_fill(struct %s *m, struct sl_arena *a, int mode, int *seq)" % (c, c),
             "{", "    %s_init(m);" % c, "    (void)a;", "    (void)mode;", "    (void)seq;"]
        for f in st.fields:
            x = "m->" + f.cname
            if f.is_array:
                o += ["    if (mode == 1) {", "        %s_n = -1;" % x, "    } else {",
                      "        %s_n = 2;" % x,
                      "        %s = sl_arena_alloc(a, 2 * sizeof(*%s));" % (x, x),
                      "        for (int i = 0; i < 2; i++) {"]
                o += ["            " + s for s in self.fill_value(f, x + "[i]")]
                o += ["        }", "    }"]
            elif f.is_struct:
                o += ["    %s_fill(&%s, a, mode, seq);" % (f.struct.cname, x)]
                if f.nullable is not None:
                    o.append("    %s_null = mode == 1;" % x)
            elif f.elem in BLOBS:
                o += ["    if (mode == 1) {"]
                o += ["        %s.p = NULL;" % (x + (".mem" if f.elem == "records" else "")),
                      "    } else {"]
                o += ["        " + s for s in self.fill_value(f, x)]
                o.append("    }")
            else:
                o += ["    " + s for s in self.fill_value(f, x)]
        o.append("}")
        return "\n".join(o)

    def fill_value(self, f, x):
        e = f.elem
        if e == "bool":
            return ["%s = true;" % x]
        if e == "float64":
            return ["%s = 0.5 * ++*seq;" % x]
        if e == "uuid":
            return ["for (int k = 0; k < 16; k++)", "    %s.b[k] = (uint8_t)(++*seq);" % x]
        if e in PRIM:
            return ["%s = (%s)(++*seq * 37);" % (x, PRIM[e][0])]
        if e in ("string", "bytes"):
            return ["%s = sl_slice_cstr(%s);" % (x, cstr(f.name))]
        if e == "records":
            return ["%s.mem = sl_slice_cstr(\"RECORDS-%s\");" % (x, f.name)]
        return ["%s_fill(&%s, a, mode, seq);" % (f.struct.cname, x)]


# ---------------------------------------------------------------- files

HDR_TOP = "/* Generated by tools/kgen from %s. Do not edit. */\n"


def header_file(guard, sources, msgs, extra_includes=(), extra=""):
    o = [HDR_TOP % sources, "#ifndef %s" % guard, "#define %s" % guard, "",
         "#include <stdbool.h>", "#include <stdint.h>", "", '#include "proto/kp.h"']
    o += ['#include "%s"' % i for i in extra_includes]
    o.append("")
    for m in msgs:
        em = Emitter(m)
        o.append("/* %s (%s): versions %d-%d, flexible %s */" % (
            m.name, m.jname, m.valid[0], m.valid[1],
            "%d+" % m.flex_lo if m.flex_lo is not None else "none"))
        for st in m.order:
            o.append("struct %s;" % st.cname)
        o.append("")
        for st in m.order:
            o.append(em.struct_def(st))
            o.append("")
        for st in m.order:
            o += em.protos(st)
        o.append("")
    o.append(extra)
    o.append("#endif")
    return "\n".join(o).rstrip() + "\n"


def source_file(sources, hname, msgs, extra=""):
    o = [HDR_TOP % sources, '#include "proto/gen/%s"' % hname, "", "#include <string.h>", ""]
    for m in msgs:
        em = Emitter(m)
        for st in m.order:
            for f in st.fields:
                if f.tagged:
                    differs_expr(f)  # marks is_default users
        for st in m.order:
            if st.need_is_default:
                mark_is_default(st)
        for st in m.order:
            if st.need_is_default:
                o.append("static bool %s_is_default(const struct %s *m);" % (st.cname, st.cname))
        o.append("")
        for st in m.order:
            if st.need_is_default:
                o.append(em.is_default_fn(st))
                o.append("")
        for st in m.order:
            o.append(em.init_fn(st))
            o.append("")
            for f in st.fields:
                if f.tagged and vand(f.tagged, st.versions):
                    o.append(em.tag_reader(st, f))
                    o.append("")
                    o.append(em.tag_writer(st, f))
                    o.append("")
            o.append(em.decode_fn(st))
            o.append("")
            o.append(em.encode_fn(st))
            o.append("")
    o.append(extra)
    return "\n".join(o).rstrip() + "\n"


def wrappers(m, prefix="w"):
    c = "sl_" + m.name
    return "\n".join([
        "static void %s_%s_init(void *m)" % (prefix, m.name), "{", "    %s_init(m);" % c, "}",
        "static int %s_%s_decode(struct sl_kp_reader *r, int16_t version, void *out)" % (
            prefix, m.name), "{", "    return %s_decode(r, version, out);" % c, "}",
        "static int %s_%s_encode(struct sl_obuf *b, int16_t version, const void *m)" % (
            prefix, m.name), "{", "    return %s_encode(b, version, m);" % c, "}", ""])


def gen_errors(src):
    rows = []
    with open(os.path.join(src, "errors.tsv"), encoding="utf-8") as f:
        for i, line in enumerate(f):
            line = line.rstrip("\n")
            if i == 0 or not line.strip():
                continue
            parts = line.split("\t")
            code, name = int(parts[0]), parts[1]
            msg = parts[2] if len(parts) > 2 else ""
            rows.append((code, name, msg))
    rows.sort()
    lo, hi = rows[0][0], rows[-1][0]
    h = [HDR_TOP % "errors.tsv", "#ifndef SL_PROTO_GEN_ERRORS_H", "#define SL_PROTO_GEN_ERRORS_H", "",
         "#include <stdint.h>", "",
         "/* Kafka error codes: int16 values that go on the wire. */",
         "enum sl_kerr {"]
    for code, name, _ in rows:
        h.append("    SL_KERR_%s = %d," % (name, code))
    h += ["};", "", "#define SL_KERR_MIN %d" % lo, "#define SL_KERR_MAX %d" % hi, "",
          "/* \"OFFSET_OUT_OF_RANGE\"; \"UNKNOWN\" for codes not in errors.tsv. */",
          "const char *sl_kerr_name(int16_t code);",
          "/* Kafka's message for the code; \"\" when there is none. */",
          "const char *sl_kerr_message(int16_t code);", "", "#endif", ""]
    c = [HDR_TOP % "errors.tsv", '#include "proto/gen/errors.h"', "", "#include <stddef.h>", "",
         "static const struct {", "    const char *name; /* NULL: unused code */",
         "    const char *message; /* Kafka's description */",
         "} errs[SL_KERR_MAX - SL_KERR_MIN + 1] = {"]
    for code, name, msg in rows:
        c.append("    [%d - SL_KERR_MIN] = {%s, %s}," % (code, cstr(name), cstr(msg)))
    c += ["};", "",
          "const char *sl_kerr_name(int16_t code)", "{",
          "    if (code < SL_KERR_MIN || code > SL_KERR_MAX || !errs[code - SL_KERR_MIN].name)",
          "        return \"UNKNOWN\";", "    return errs[code - SL_KERR_MIN].name;", "}", "",
          "const char *sl_kerr_message(int16_t code)", "{",
          "    if (code < SL_KERR_MIN || code > SL_KERR_MAX || !errs[code - SL_KERR_MIN].name)",
          "        return \"\";", "    return errs[code - SL_KERR_MIN].message;", "}", ""]
    return "\n".join(h), "\n".join(c)


LISTENERS = {"zkBroker": "SL_API_LISTENER_ZK_BROKER", "broker": "SL_API_LISTENER_BROKER",
             "controller": "SL_API_LISTENER_CONTROLLER"}


def gen_api(apis):
    maxkey = max(apis)
    h = [HDR_TOP % "every message/<Name>Request.json", "#ifndef SL_PROTO_GEN_API_H", "#define SL_PROTO_GEN_API_H",
         "", "#include <stddef.h>", "#include <stdint.h>", "", '#include "proto/kp.h"', "",
         "enum sl_api_key {"]
    for k in sorted(apis):
        h.append("    SL_API_%s = %d," % (apis[k][0], k))
    h += ["    SL_API_MAX = %d," % maxkey, "};", "",
          "enum {", "    SL_API_LISTENER_ZK_BROKER = 1, /* \"zkBroker\" */",
          "    SL_API_LISTENER_BROKER = 2, /* \"broker\" */",
          "    SL_API_LISTENER_CONTROLLER = 4, /* \"controller\" */", "};", "",
          "struct sl_api_info {",
          "    const char *name; /* \"Produce\"; NULL for unused keys */",
          "    int16_t min_version, max_version; /* validVersions of the request JSON */",
          "    int16_t flexible_min; /* first flexible version, or -1 */",
          "    uint8_t listeners; /* SL_API_LISTENER_* from \"listeners\" */",
          "    size_t request_size, response_size; /* sizeof the structs */",
          "    void (*request_init)(void *), (*response_init)(void *);",
          "    int (*decode_request)(struct sl_kp_reader *, int16_t version, void *out);",
          "    int (*encode_request)(struct sl_obuf *, int16_t version, const void *m);",
          "    int (*decode_response)(struct sl_kp_reader *, int16_t version, void *out);",
          "    int (*encode_response)(struct sl_obuf *, int16_t version, const void *m);",
          "};", "",
          "extern const struct sl_api_info sl_api_table[SL_API_MAX + 1];",
          "/* NULL if the key is unknown. */",
          "const struct sl_api_info *sl_api_get(int16_t api_key);",
          "/* Request header version: 2 when flexible, else 1; ControlledShutdown v0 -> 0. */",
          "int sl_api_request_header_version(int16_t api_key, int16_t version);",
          "/* Response header version: 1 when flexible, else 0; ApiVersions always 0. */",
          "int sl_api_response_header_version(int16_t api_key, int16_t version);",
          "", "#endif", ""]
    c = [HDR_TOP % "every message/<Name>Request.json and <Name>Response.json", '#include "proto/gen/api.h"',
         '#include "proto/gen/all.h"', ""]
    for k in sorted(apis):
        name, req, resp = apis[k]
        c.append(wrappers(req))
        c.append(wrappers(resp))
    c.append("const struct sl_api_info sl_api_table[SL_API_MAX + 1] = {")
    for k in sorted(apis):
        name, req, resp = apis[k]
        ls = " | ".join(LISTENERS[x] for x in req.listeners if x in LISTENERS) or "0"
        c += ["    [SL_API_%s] = {" % name,
              "        .name = %s," % cstr(name),
              "        .min_version = %d," % req.valid[0],
              "        .max_version = %d," % req.valid[1],
              "        .flexible_min = %d," % (req.flex_lo if req.flex_lo is not None else -1),
              "        .listeners = %s," % ls,
              "        .request_size = sizeof(struct sl_%s)," % req.name,
              "        .response_size = sizeof(struct sl_%s)," % resp.name,
              "        .request_init = w_%s_init," % req.name,
              "        .response_init = w_%s_init," % resp.name,
              "        .decode_request = w_%s_decode," % req.name,
              "        .encode_request = w_%s_encode," % req.name,
              "        .decode_response = w_%s_decode," % resp.name,
              "        .encode_response = w_%s_encode," % resp.name,
              "    },"]
    c += ["};", "",
          "const struct sl_api_info *sl_api_get(int16_t api_key)", "{",
          "    if (api_key < 0 || api_key > SL_API_MAX || !sl_api_table[api_key].name)",
          "        return NULL;", "    return &sl_api_table[api_key];", "}", "",
          "int sl_api_request_header_version(int16_t api_key, int16_t version)", "{",
          "    const struct sl_api_info *api = sl_api_get(api_key);",
          "    if (api_key == SL_API_ControlledShutdown && version == 0)", "        return 0;",
          "    if (api && api->flexible_min >= 0 && version >= api->flexible_min)",
          "        return 2;", "    return 1;", "}", "",
          "int sl_api_response_header_version(int16_t api_key, int16_t version)", "{",
          "    const struct sl_api_info *api = sl_api_get(api_key);",
          "    if (api_key == SL_API_ApiVersions)", "        return 0;",
          "    if (api && api->flexible_min >= 0 && version >= api->flexible_min)",
          "        return 1;", "    return 0;", "}", ""]
    return "\n".join(h), "\n".join(c)


TABLE_STRUCT = """struct sl_%(t)s_info {
    const char *name; /* %(what)s; NULL for unused entries */
    int16_t min_version, max_version; /* validVersions */
    size_t size; /* sizeof the struct */
    void (*init)(void *m);
    int (*decode)(struct sl_kp_reader *r, int16_t version, void *out);
    int (*encode)(struct sl_obuf *b, int16_t version, const void *m);
};
"""


def table_entry(m):
    return ["        .name = %s," % cstr(m.name),
            "        .min_version = %d," % m.valid[0],
            "        .max_version = %d," % m.valid[1],
            "        .size = sizeof(struct sl_%s)," % m.name,
            "        .init = w_%s_init," % m.name,
            "        .decode = w_%s_decode," % m.name,
            "        .encode = w_%s_encode," % m.name]


META_H = TABLE_STRUCT % {"t": "meta_record", "what": "\"TopicRecord\""} + """
#define SL_META_RECORD_MAX %(max)d /* largest metadata record apiKey */
/* Largest sizeof of any metadata record struct: storage for sl_meta_record_decode. */
#define SL_META_RECORD_STORAGE %(storage)s
/* Frame version written before every metadata record (AbstractApiMessageSerde). */
#define SL_META_FRAME_VERSION 1

/* Indexed by the record "apiKey". */
extern const struct sl_meta_record_info sl_meta_record_table[SL_META_RECORD_MAX + 1];
/* NULL for an unknown type. */
const struct sl_meta_record_info *sl_meta_record_get(int16_t type);
/* Writes one metadata record as Kafka frames it in __cluster_metadata record
 * values: uvarint frame version (1), uvarint apiKey, uvarint version, message.
 * 0, -EINVAL (unknown type or version) or -ENOMEM. */
int sl_meta_record_encode(struct sl_obuf *b, int16_t type, int16_t version, const void *rec);
/* Reads one framed metadata record into out (SL_META_RECORD_STORAGE bytes,
 * 16-byte aligned), setting *type and *version. SL_OK or SL_EFRAME. */
int sl_meta_record_decode(struct sl_kp_reader *r, int16_t *type, int16_t *version, void *out);
"""

META_C = """
const struct sl_meta_record_info *sl_meta_record_get(int16_t type)
{
    if (type < 0 || type > SL_META_RECORD_MAX || !sl_meta_record_table[type].name)
        return NULL;
    return &sl_meta_record_table[type];
}

int sl_meta_record_encode(struct sl_obuf *b, int16_t type, int16_t version, const void *rec)
{
    const struct sl_meta_record_info *info = sl_meta_record_get(type);
    int rc;
    if (!info || version < info->min_version || version > info->max_version)
        return -EINVAL;
    if ((rc = sl_kp_write_uvarint32(b, SL_META_FRAME_VERSION)) < 0 ||
        (rc = sl_kp_write_uvarint32(b, (uint32_t)type)) < 0 ||
        (rc = sl_kp_write_uvarint32(b, (uint32_t)version)) < 0)
        return rc;
    return info->encode(b, version, rec);
}

int sl_meta_record_decode(struct sl_kp_reader *r, int16_t *type, int16_t *version, void *out)
{
    uint32_t frame, t, v;
    if (sl_kp_read_uvarint32(r, &frame) < 0 || sl_kp_read_uvarint32(r, &t) < 0 ||
        sl_kp_read_uvarint32(r, &v) < 0)
        return SL_EFRAME;
    if (frame != SL_META_FRAME_VERSION)
        return sl_kp_fail(r, "unknown metadata record frame version");
    const struct sl_meta_record_info *info = t <= SL_META_RECORD_MAX ? sl_meta_record_get((int16_t)t) : NULL;
    if (!info)
        return sl_kp_fail(r, "unknown metadata record type");
    if (v > (uint32_t)info->max_version || (int32_t)v < info->min_version)
        return sl_kp_fail(r, "unsupported metadata record version");
    *type = (int16_t)t;
    *version = (int16_t)v;
    return info->decode(r, (int16_t)v, out);
}
"""

COORD_H = TABLE_STRUCT % {"t": "coord_type", "what": "\"OffsetCommitKey\""} + """
/* One __consumer_offsets record type: key and value schemas. */
struct sl_coord_record_info {
    struct sl_coord_type_info key;   /* key message; key version == record type */
    struct sl_coord_type_info value; /* value message */
};

#define SL_COORD_RECORD_MAX %(max)d /* largest __consumer_offsets record type */
#define SL_COORD_KEY_STORAGE %(kstorage)s /* largest key struct */
#define SL_COORD_VALUE_STORAGE %(vstorage)s /* largest value struct */

/* __consumer_offsets record types, indexed by the key's int16 version prefix.
 * __transaction_state uses TransactionLogKey (version 0) and TransactionLogValue. */
extern const struct sl_coord_record_info sl_coord_record_table[SL_COORD_RECORD_MAX + 1];
const struct sl_coord_record_info *sl_coord_record_get(int16_t type);

/* __consumer_offsets key: int16 type (the key's version) + key message at that
 * version. 0, -EINVAL (unknown type) or -ENOMEM. */
int sl_coord_key_encode(struct sl_obuf *b, int16_t type, const void *key);
/* Reads the int16 type and the key into out (SL_COORD_KEY_STORAGE bytes). */
int sl_coord_key_decode(struct sl_kp_reader *r, int16_t *type, void *out);
/* __consumer_offsets value: int16 version + value message of the given type. */
int sl_coord_value_encode(struct sl_obuf *b, int16_t type, int16_t version, const void *value);
/* A value of record type `type`; *version from its prefix. Out: SL_COORD_VALUE_STORAGE bytes.
 * A record with an empty (null) value is a tombstone; the caller checks that first. */
int sl_coord_value_decode(struct sl_kp_reader *r, int16_t type, int16_t *version, void *out);
"""

COORD_C = """
const struct sl_coord_record_info *sl_coord_record_get(int16_t type)
{
    if (type < 0 || type > SL_COORD_RECORD_MAX || !sl_coord_record_table[type].key.name)
        return NULL;
    return &sl_coord_record_table[type];
}

int sl_coord_key_encode(struct sl_obuf *b, int16_t type, const void *key)
{
    const struct sl_coord_record_info *info = sl_coord_record_get(type);
    int rc;
    if (!info)
        return -EINVAL;
    if ((rc = sl_kp_write_i16(b, type)) < 0)
        return rc;
    return info->key.encode(b, type, key);
}

int sl_coord_key_decode(struct sl_kp_reader *r, int16_t *type, void *out)
{
    const struct sl_coord_record_info *info;
    if (sl_kp_read_i16(r, type) < 0)
        return SL_EFRAME;
    if (!(info = sl_coord_record_get(*type)))
        return sl_kp_fail(r, "unknown coordinator record type");
    return info->key.decode(r, *type, out);
}

int sl_coord_value_encode(struct sl_obuf *b, int16_t type, int16_t version, const void *value)
{
    const struct sl_coord_record_info *info = sl_coord_record_get(type);
    int rc;
    if (!info || version < info->value.min_version || version > info->value.max_version)
        return -EINVAL;
    if ((rc = sl_kp_write_i16(b, version)) < 0)
        return rc;
    return info->value.encode(b, version, value);
}

int sl_coord_value_decode(struct sl_kp_reader *r, int16_t type, int16_t *version, void *out)
{
    const struct sl_coord_record_info *info = sl_coord_record_get(type);
    if (!info)
        return sl_kp_fail(r, "unknown coordinator record type");
    if (sl_kp_read_i16(r, version) < 0)
        return SL_EFRAME;
    if (*version < info->value.min_version || *version > info->value.max_version)
        return sl_kp_fail(r, "unsupported coordinator value version");
    return info->value.decode(r, *version, out);
}
"""


def size_max_expr(msgs):
    """A constant expression for the largest sizeof among msgs: the size of a
    union of them all (a nested ?: chain grows exponentially)."""
    members = " ".join("struct sl_%s m%d;" % (m.name, i) for i, m in enumerate(msgs))
    return "sizeof(union { %s })" % members


def gen_fill(groups):
    """fill.h/.c: populate every message for round-trip tests (test-only;
    the linker pulls fill.o from libsluice.a only into programs that use it)."""
    h = [HDR_TOP % "all message JSON", "#ifndef SL_PROTO_GEN_FILL_H", "#define SL_PROTO_GEN_FILL_H", "",
         "#include <stddef.h>", "#include <stdint.h>", "", '#include "proto/kp.h"', "",
         "/* Every generated message, for tests and fuzzing. */",
         "struct sl_gen_msg {",
         "    const char *name; /* \"ProduceRequest\" */",
         "    const char *kind; /* \"request\", \"response\", \"header\", \"metadata\", \"data\" */",
         "    int16_t api_key; /* apiKey, or -1 */",
         "    int16_t min_version, max_version; /* validVersions */",
         "    size_t size; /* sizeof the struct */",
         "    void (*init)(void *m);",
         "    int (*decode)(struct sl_kp_reader *r, int16_t version, void *out);",
         "    int (*encode)(struct sl_obuf *b, int16_t version, const void *m);",
         "    /* Populates every field (mode 0) or sets every nullable field null and",
         "     * every array null/empty (mode 1); arrays are allocated in a. */",
         "    void (*fill)(void *m, struct sl_arena *a, int mode);",
         "};", "",
         "extern const struct sl_gen_msg sl_gen_msgs[];",
         "extern const size_t sl_gen_msgs_n;", "", "#endif", ""]
    c = [HDR_TOP % "all message JSON", '#include "proto/gen/fill.h"', '#include "proto/gen/all.h"', ""]
    allm = [m for _, ms in groups for m in ms]
    for m in allm:
        for st in m.order:
            c.append("static void %s_fill(struct %s *m, struct sl_arena *a, int mode, int *seq);" % (
                st.cname, st.cname))
    c.append("")
    for m in allm:
        em = Emitter(m)
        for st in m.order:
            c.append(em.fill_fn(st))
            c.append("")
        c.append(wrappers(m))
        c += ["static void w_%s_fill(void *m, struct sl_arena *a, int mode)" % m.name, "{",
              "    int seq = 0;", "    sl_%s_fill(m, a, mode, &seq);" % m.name, "}", ""]
    c.append("const struct sl_gen_msg sl_gen_msgs[] = {")
    for m in allm:
        c.append("    {%s, %s, %d, %d, %d, sizeof(struct sl_%s), w_%s_init, w_%s_decode, w_%s_encode, "
                 "w_%s_fill}," % (cstr(m.name), cstr(m.type), m.api_key if m.api_key is not None else -1,
                                  m.valid[0], m.valid[1], m.name, m.name, m.name, m.name, m.name))
    c += ["};", "", "const size_t sl_gen_msgs_n = sizeof(sl_gen_msgs) / sizeof(sl_gen_msgs[0]);", ""]
    return "\n".join(h), "\n".join(c)


def load_dir(src, sub):
    d = os.path.join(src, sub)
    msgs = []
    for fn in sorted(os.listdir(d)):
        if fn.endswith(".json"):
            path = os.path.join(d, fn)
            msgs.append(Message(path, load_json(path)))
    return msgs


def main(argv):
    if len(argv) != 3:
        sys.stderr.write("usage: kgen.py <kafka-protocol dir> <output dir>\n")
        return 2
    src, out = argv[1], argv[2]
    files = {}  # name -> text

    messages = load_dir(src, "message")
    by_name = {m.name: m for m in messages}
    apis = {}
    for m in messages:
        if m.type == "request":
            api = m.name[: -len("Request")]
            resp = by_name[api + "Response"]
            apis[m.api_key] = (api, m, resp)
    groups = []
    for k in sorted(apis, key=lambda k: apis[k][0]):
        api, req, resp = apis[k]
        hname = api + ".h"
        srcs = "%s and %s" % (req.jname, resp.jname)
        guard = "SL_PROTO_GEN_%s_H" % api.upper()
        files[hname] = header_file(guard, srcs, [req, resp])
        files[api + ".c"] = source_file(srcs, hname, [req, resp])
        groups.append((hname, [req, resp]))

    headers = [by_name["RequestHeader"], by_name["ResponseHeader"]]
    srcs = "RequestHeader.json and ResponseHeader.json"
    files["header.h"] = header_file("SL_PROTO_GEN_HEADER_H", srcs, headers)
    files["header.c"] = source_file(srcs, "header.h", headers)
    groups.append(("header.h", headers))

    data = [m for m in messages if m.type == "data"]
    srcs = ", ".join(m.jname for m in data)
    files["data.h"] = header_file("SL_PROTO_GEN_DATA_H", srcs, data)
    files["data.c"] = source_file(srcs, "data.h", data)
    groups.append(("data.h", data))

    meta = load_dir(src, "metadata")
    mt = {m.api_key: m for m in meta}
    srcs = "every metadata/<Record>.json"
    extra_h = META_H % {"max": max(mt), "storage": size_max_expr(meta)}
    files["meta_records.h"] = header_file("SL_PROTO_GEN_META_RECORDS_H", srcs, meta, extra=extra_h)
    ex = [wrappers(m) for m in meta]
    ex.append("const struct sl_meta_record_info sl_meta_record_table[SL_META_RECORD_MAX + 1] = {")
    for k in sorted(mt):
        ex.append("    [%d] = {" % k)
        ex += table_entry(mt[k])
        ex.append("    },")
    ex.append("};")
    ex.append(META_C)
    files["meta_records.c"] = source_file(srcs, "meta_records.h", meta, "\n".join(ex))
    groups.append(("meta_records.h", meta))

    coord = load_dir(src, "group-coordinator")
    cn = {m.name: m for m in coord}
    types = {}
    for m in coord:
        if m.name.endswith("Key") and m.name != "TransactionLogKey":
            val = cn[m.name[:-3] + "Value"]
            for v in range(m.valid[0], m.valid[1] + 1):
                types[v] = (m, val)
    srcs = "every group-coordinator/<Record>.json"
    keys = sorted({m.name: m for m, _ in types.values()}.values(), key=lambda m: m.name)
    vals = sorted({v.name: v for _, v in types.values()}.values(), key=lambda m: m.name)
    extra_h = COORD_H % {"max": max(types), "kstorage": size_max_expr(keys),
                         "vstorage": size_max_expr(vals)}
    files["coord_records.h"] = header_file("SL_PROTO_GEN_COORD_RECORDS_H", srcs, coord, extra=extra_h)
    ex = [wrappers(m) for m in coord if m.name != "TransactionLogKey" and m.name != "TransactionLogValue"]
    ex.append("const struct sl_coord_record_info sl_coord_record_table[SL_COORD_RECORD_MAX + 1] = {")
    for k in sorted(types):
        km, vm = types[k]
        ex.append("    [%d] = {" % k)
        ex.append("        .key = {")
        ex += ["    " + s for s in table_entry(km)]
        ex.append("        },")
        ex.append("        .value = {")
        ex += ["    " + s for s in table_entry(vm)]
        ex.append("        },")
        ex.append("    },")
    ex.append("};")
    ex.append(COORD_C)
    files["coord_records.c"] = source_file(srcs, "coord_records.h", coord, "\n".join(ex))
    groups.append(("coord_records.h", coord))

    files["errors.h"], files["errors.c"] = gen_errors(src)
    files["api.h"], files["api.c"] = gen_api(apis)
    files["fill.h"], files["fill.c"] = gen_fill(groups)

    allh = [HDR_TOP % "all message JSON", "#ifndef SL_PROTO_GEN_ALL_H", "#define SL_PROTO_GEN_ALL_H", ""]
    for name in ["api.h", "errors.h"] + sorted(h for h, _ in groups):
        allh.append('#include "proto/gen/%s"' % name)
    allh += ["", "#endif", ""]
    files["all.h"] = "\n".join(allh)

    os.makedirs(out, exist_ok=True)
    for fn in sorted(os.listdir(out)):
        if (fn.endswith(".c") or fn.endswith(".h")) and fn not in files:
            os.remove(os.path.join(out, fn))
    for fn in sorted(files):
        path = os.path.join(out, fn)
        text = files[fn]
        old = None
        if os.path.exists(path):
            with open(path, encoding="utf-8") as f:
                old = f.read()
        if old != text:
            with open(path, "w", encoding="utf-8") as f:
                f.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
