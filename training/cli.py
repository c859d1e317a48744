"""Command-line plumbing shared by the project's tools: errors are one line on stderr and exit status 2.

Not run directly.
"""

import argparse
import sys


class ArgumentParser(argparse.ArgumentParser):
    """argparse, but a usage error is one line ("error: ...") rather than the usage text and a line."""

    def error(self, message):
        print(f"error: {message} (see --help)", file=sys.stderr)
        sys.exit(2)
