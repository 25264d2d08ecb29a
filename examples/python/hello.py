"""hello: the smallest Python command (start-up and size in `make bench`)."""
from wit_world import exports


class Run(exports.Run):
    def run(self) -> None:
        print("hello from Python")
