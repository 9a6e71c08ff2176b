#!/usr/bin/python3
"""schema.py: validate JSON lines against doc/protocol.schema.json.

    schema.py [--reply] [--schema FILE] [FILE|-]

Each line of FILE (default: stdin) must be one JSON object valid under the
schema (with --reply: under its $defs/reply, and a blank line is a valid
reply, as extauth takes it).  Prints one message per bad line on stderr,
naming the line number, the line, and what is wrong; exits 1 if any line
is bad, 2 on a usage error, 0 otherwise (no lines is fine).

Run with Debian's /usr/bin/python3 and python3-jsonschema (4.10 knows
Draft 2020-12), not a pyenv python3 that may lack the module.
"""
import json
import os
import sys

import jsonschema

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_SCHEMA = os.path.join(HERE, "..", "..", "doc",
                              "protocol.schema.json")
SHOW_MAX = 300  # characters of a bad line echoed in the message


def load_validator(path, reply):
    with open(path, encoding="utf-8") as f:
        schema = json.load(f)
    cls = jsonschema.Draft202012Validator
    cls.check_schema(schema)
    if reply:
        # The reply definition, resolved inside the whole document so
        # that its $refs still work.
        schema = {"$schema": schema["$schema"], "$defs": schema["$defs"],
                  "$ref": "#/$defs/reply"}
    return cls(schema)


def problems(validator, text, reply):
    """What is wrong with one line, as a list of strings (empty: valid)."""
    if reply and text.strip() == "":
        return []
    if text == "":
        return ["an empty line"]
    try:
        doc = json.loads(text)
    except ValueError as exc:
        return ["not JSON: %s" % exc]
    if not isinstance(doc, dict):
        return ["not a JSON object"]
    out = []
    for err in sorted(validator.iter_errors(doc), key=lambda e: e.path):
        where = "/".join(str(p) for p in err.absolute_path) or "(line)"
        out.append("%s: %s" % (where, err.message))
    return out


def main(argv):
    reply = False
    schema = DEFAULT_SCHEMA
    args = argv[1:]
    while args and args[0].startswith("--"):
        opt = args.pop(0)
        if opt == "--reply":
            reply = True
        elif opt == "--schema" and args:
            schema = args.pop(0)
        else:
            print("usage: schema.py [--reply] [--schema FILE] [FILE|-]",
                  file=sys.stderr)
            return 2
    if len(args) > 1:
        print("usage: schema.py [--reply] [--schema FILE] [FILE|-]",
              file=sys.stderr)
        return 2
    validator = load_validator(schema, reply)
    src = args[0] if args else "-"
    f = sys.stdin if src == "-" else open(src, encoding="utf-8")
    bad = 0
    with f:
        for n, line in enumerate(f, 1):
            text = line[:-1] if line.endswith("\n") else line
            found = problems(validator, text, reply)
            if found:
                bad += 1
                shown = text if len(text) <= SHOW_MAX else \
                    text[:SHOW_MAX] + "..."
                print("schema: %s line %d is not a valid %s: %s" %
                      (src, n, "reply" if reply else "protocol line",
                       shown), file=sys.stderr)
                for p in found:
                    print("schema:   %s" % p, file=sys.stderr)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
