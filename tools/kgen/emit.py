"""emit.py - kgen's C emitter: the struct, init, decode and encode code of
one message (and its nested structs) for every version."""

from model import *  # noqa: F401,F403 (the model's names are the emitter's vocabulary)

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

