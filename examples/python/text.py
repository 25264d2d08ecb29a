"""text: a small text-processing Python command (json, re).

Reads JSON records from stdin, one object per line: {"user": ..., "text":
...}; prints, as JSON, per user the number of messages, the words, and the
e-mail addresses and dates found in their texts.
"""
import json
import re
import sys

from wit_world import exports

EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.]+")
DATE = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")


class Run(exports.Run):
    def run(self) -> None:
        users = {}
        for n, line in enumerate(sys.stdin, 1):
            line = line.strip()
            if not line:
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as e:
                print(f"line {n}: {e}", file=sys.stderr)
                continue
            u = users.setdefault(record["user"], {"messages": 0, "words": 0, "emails": [], "dates": []})
            u["messages"] += 1
            u["words"] += len(re.findall(r"\w+", record["text"]))
            u["emails"] += EMAIL.findall(record["text"])
            u["dates"] += ["/".join(reversed(d)) for d in DATE.findall(record["text"])]
        print(json.dumps(users, indent=2, sort_keys=True))
