"""A strict parser of the Prometheus text exposition format (version 0.0.4), for scraping /metrics in
tests. It rejects what a Prometheus server would reject or misread: a sample before its family's TYPE,
a family split in two, a duplicate series, a label value with a bad escape, a histogram whose buckets
do not add up.

    scrape = Scrape.parse(text)
    scrape.value("stacksync_http_requests_total", route="/execute", status="200", error_type="none")
"""

import math
import re

METRIC_NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
LABEL_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")
# Go's ParseFloat forms that Prometheus reads: decimal, exponent, and the special values.
NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?|Inf|NaN)")
TYPES = ("counter", "gauge", "histogram", "summary", "untyped")
HISTOGRAM_SUFFIXES = ("_bucket", "_sum", "_count")


class ParseError(ValueError):
    pass


class Family:
    def __init__(self, name):
        self.name = name
        self.type = None
        self.help = None
        self.samples = []  # (sample name, {label: value}, float)

    def __repr__(self):
        return f"Family({self.name}, {self.type}, {len(self.samples)} samples)"


def unescape_help(text, line_number):
    out = []
    i = 0
    while i < len(text):
        c = text[i]
        if c == "\\" and i + 1 < len(text) and text[i + 1] in "\\n":
            out.append("\\" if text[i + 1] == "\\" else "\n")
            i += 2
        else:
            out.append(c)
            i += 1
    return "".join(out)


def parse_labels(line, start, line_number):
    """Parses `{a="x",b="y"}` from line[start] == "{"; returns (labels, index after "}")."""
    labels = {}
    i = start + 1
    while True:
        if i < len(line) and line[i] == "}":
            return labels, i + 1
        match = LABEL_NAME.match(line, i)
        if not match:
            raise ParseError(f"line {line_number}: bad label name at column {i}: {line!r}")
        name = match.group()
        i = match.end()
        if line[i : i + 2] != '="':
            raise ParseError(f"line {line_number}: expected =\" after label {name}: {line!r}")
        i += 2
        value = []
        while True:
            if i >= len(line):
                raise ParseError(f"line {line_number}: unterminated value of label {name}: {line!r}")
            c = line[i]
            if c == '"':
                i += 1
                break
            if c == "\\":
                escaped = line[i + 1 : i + 2]
                if escaped not in ("\\", '"', "n"):
                    raise ParseError(f"line {line_number}: bad escape \\{escaped} in label {name}")
                value.append("\n" if escaped == "n" else escaped)
                i += 2
                continue
            value.append(c)
            i += 1
        if name in labels:
            raise ParseError(f"line {line_number}: label {name} given twice")
        labels[name] = "".join(value)
        if i < len(line) and line[i] == ",":
            i += 1
            continue
        if i < len(line) and line[i] == "}":
            return labels, i + 1
        raise ParseError(f"line {line_number}: expected , or }} after label {name}: {line!r}")


def parse_number(text, line_number):
    if not NUMBER.fullmatch(text):
        raise ParseError(f"line {line_number}: not a number: {text!r}")
    return float(text)


def family_name_of(sample_name, families):
    """The family a sample belongs to: itself, or a histogram/summary it is a suffix series of."""
    for suffix in HISTOGRAM_SUFFIXES:
        if sample_name.endswith(suffix):
            base = sample_name[: -len(suffix)]
            if base in families and families[base].type in ("histogram", "summary"):
                return base
    return sample_name


def parse(text):
    """Returns {family name: Family}, in the order of the text. Raises ParseError."""
    if text and not text.endswith("\n"):
        raise ParseError("the last line is not terminated by a line feed")
    families = {}
    finished = set()  # families whose block has ended: a later line of theirs splits them
    current = None
    seen_series = set()

    def enter(name, line_number):
        nonlocal current
        if current is not None and current != name:
            finished.add(current)
        if name in finished:
            raise ParseError(f"line {line_number}: family {name} is split in two blocks")
        current = name
        return families.setdefault(name, Family(name))

    for line_number, line in enumerate(text.split("\n")[:-1], start=1):
        if line.strip() == "":
            continue
        if line.startswith("#"):
            parts = line.split(None, 3)
            if len(parts) >= 3 and parts[1] in ("HELP", "TYPE"):
                name = parts[2]
                if not METRIC_NAME.fullmatch(name):
                    raise ParseError(f"line {line_number}: bad metric name {name!r}")
                family = enter(name, line_number)
                rest = parts[3] if len(parts) > 3 else ""
                if parts[1] == "HELP":
                    if family.help is not None:
                        raise ParseError(f"line {line_number}: second HELP for {name}")
                    family.help = unescape_help(rest, line_number)
                else:
                    if family.type is not None:
                        raise ParseError(f"line {line_number}: second TYPE for {name}")
                    if family.samples:
                        raise ParseError(f"line {line_number}: TYPE for {name} after its samples")
                    if rest not in TYPES:
                        raise ParseError(f"line {line_number}: unknown type {rest!r}")
                    family.type = rest
            continue  # any other comment
        match = METRIC_NAME.match(line)
        if not match:
            raise ParseError(f"line {line_number}: bad sample line {line!r}")
        sample_name = match.group()
        i = match.end()
        labels = {}
        if i < len(line) and line[i] == "{":
            labels, i = parse_labels(line, i, line_number)
        if i >= len(line) or line[i] != " ":
            raise ParseError(f"line {line_number}: expected a space before the value: {line!r}")
        fields = line[i + 1 :].split(" ")
        if len(fields) not in (1, 2):
            raise ParseError(f"line {line_number}: expected a value and an optional timestamp")
        value = parse_number(fields[0], line_number)
        if len(fields) == 2 and not re.fullmatch(r"-?\d+", fields[1]):
            raise ParseError(f"line {line_number}: bad timestamp {fields[1]!r}")
        family = enter(family_name_of(sample_name, families), line_number)
        series = (sample_name, tuple(sorted(labels.items())))
        if series in seen_series:
            raise ParseError(f"line {line_number}: duplicate series {series}")
        seen_series.add(series)
        family.samples.append((sample_name, labels, value))
    return families


def check_histogram(family):
    """The invariants of a histogram family; raises AssertionError with what is wrong."""
    assert family.type == "histogram", family
    groups = {}
    for name, labels, value in family.samples:
        key = tuple(sorted((k, v) for k, v in labels.items() if k != "le"))
        group = groups.setdefault(key, {"buckets": [], "sum": None, "count": None})
        if name == family.name + "_bucket":
            assert "le" in labels, f"{name} without le"
            group["buckets"].append((parse_number(labels["le"], 0), value))
        elif name == family.name + "_sum":
            group["sum"] = value
        elif name == family.name + "_count":
            group["count"] = value
        else:
            raise AssertionError(f"{name} does not belong to histogram {family.name}")
    assert groups, f"{family.name} has no samples"
    for key, group in groups.items():
        buckets = group["buckets"]
        bounds = [bound for bound, _ in buckets]
        counts = [count for _, count in buckets]
        assert bounds == sorted(bounds) and len(set(bounds)) == len(bounds), f"{family.name}: le order {bounds}"
        assert bounds and math.isinf(bounds[-1]) and bounds[-1] > 0, f"{family.name}: no +Inf bucket"
        assert all(a <= b for a, b in zip(counts, counts[1:])), f"{family.name}: buckets decrease {counts}"
        assert group["count"] is not None and group["sum"] is not None, f"{family.name}: _sum or _count missing"
        assert counts[-1] == group["count"], f"{family.name}: +Inf {counts[-1]} != _count {group['count']}"
    return groups


class Scrape:
    def __init__(self, families, text):
        self.families = families
        self.text = text

    @classmethod
    def parse(cls, text):
        return cls(parse(text), text)

    def series(self, sample_name):
        """{frozenset(labels.items()): value} of every sample with that name."""
        family = self.families.get(family_name_of(sample_name, self.families))
        if family is None:
            return {}
        return {frozenset(labels.items()): value for name, labels, value in family.samples if name == sample_name}

    def value(self, sample_name, default=0.0, **labels):
        """The sample with exactly these labels; `default` when absent (counters not yet created)."""
        return self.series(sample_name).get(frozenset(labels.items()), default)

    def histogram(self, name):
        """(cumulative buckets [(le, count)], sum, count) of an unlabelled histogram."""
        groups = check_histogram(self.families[name])
        group = groups[()]
        return group["buckets"], group["sum"], group["count"]


def deltas(before, after, sample_name):
    """{frozenset(labels): after - before} for every series that changed."""
    old = before.series(sample_name)
    new = after.series(sample_name)
    changed = {}
    for labels in set(old) | set(new):
        difference = new.get(labels, 0.0) - old.get(labels, 0.0)
        if difference != 0:
            changed[labels] = difference
    return changed


def labels(**pairs):
    return frozenset(pairs.items())
