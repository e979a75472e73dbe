"""Run a command on a pseudo-terminal, as an operator at a terminal would,
and answer its confirmation prompts.

usage: on_terminal.py ANSWERS_FILE COMMAND [ARG...]

ANSWERS_FILE has one answer per line (an empty line is Enter). Each time the
command's output shows a new `confirm?` prompt, the next answer is typed.
Everything the command printed goes to our stdout; we exit with its code.
"""

import os
import pty
import sys


def main():
    answers = open(sys.argv[1], encoding="utf-8").read().split("\n")
    pid, fd = pty.fork()
    if pid == 0:
        os.execvp(sys.argv[2], sys.argv[2:])
    seen = b""
    prompts = 0
    while True:
        try:
            chunk = os.read(fd, 4096)
        except OSError:
            break
        if not chunk:
            break
        seen += chunk
        while seen.count(b"confirm?") > prompts:
            answer = answers[prompts] if prompts < len(answers) else ""
            os.write(fd, answer.encode() + b"\r")
            prompts += 1
    _, status = os.waitpid(pid, 0)
    sys.stdout.write(seen.decode("utf-8", "replace"))
    sys.exit(os.waitstatus_to_exitcode(status))


main()
