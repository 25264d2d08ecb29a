"""cli: a Python command (componentize-py) that uses what CLI scripts use:
sys.argv, os.environ, stdin, files in a preopened directory (open,
os.listdir), time, random, and an exception.

    cli.py [raise]   with /data preopened, holding input.txt

Reads stdin and /data/input.txt, writes /data/output.txt (the input's words
counted), lists /data; with `raise`, ends with an exception that reaches
the top, which prints its traceback and exits with status 1, as `python`
does. Everything printed is deterministic.
"""
import os
import random
import sys
import time
import traceback

from wit_world import exports


def count_words(text):
    counts = {}
    for word in text.split():
        word = word.strip(".,;:!?").lower()
        if word:
            counts[word] = counts.get(word, 0) + 1
    return counts


def main():
    print("argv:", sys.argv[1:])
    print("env:", sorted((k, v) for k, v in os.environ.items() if k.startswith("PY_")))
    data = sys.stdin.read()
    print(f"stdin: {len(data)} chars, {len(data.splitlines())} lines")

    with open("/data/input.txt") as f:
        text = f.read()
    counts = count_words(text)
    with open("/data/output.txt", "w") as f:
        for word in sorted(counts):
            f.write(f"{word} {counts[word]}\n")
    print(f"input.txt: {len(text)} chars, {len(counts)} distinct words")
    print("/data:", sorted(os.listdir("/data")))

    start = time.monotonic()
    sum(range(100000))
    print("monotonic advanced:", time.monotonic() >= start)
    print("time after 2020:", time.time() > 1577836800)
    r = random.Random(42)
    print("seeded random:", [r.randint(0, 99) for _ in range(5)])
    print("random in [0, 1):", 0 <= random.random() < 1)
    print("done (stderr)", file=sys.stderr)
    if sys.argv[1:] == ["raise"]:
        raise ValueError("Curiouser and curiouser!")


class Run(exports.Run):
    def run(self) -> None:
        try:
            main()
        except Exception:
            traceback.print_exc()
            sys.stdout.flush()
            sys.exit(1)
