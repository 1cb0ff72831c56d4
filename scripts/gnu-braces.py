#!/usr/bin/env python3
"""Puts the braces of control statements (if, for, while, switch, else, do) in C files
where core/ puts them, GNU style: the brace on a line of its own, two columns in from
the statement, the block's body two columns further in. Other braces (function bodies,
initializers, structs) stay as they are. Only whitespace and line breaks change; the
script checks that the tokens are the same before writing a file, and names the lines
that the deeper indentation pushed past 100 columns.

Usage: scripts/gnu-braces.py FILE.c ..."""
import re
import sys

CONTROL = re.compile(r'^(if|for|while|switch|else|do)\b')


def blank_comments_and_strings(line, in_comment):
    """The line with comments, strings and character constants blanked out, and whether
    a block comment is still open at its end."""
    out, i, n = [], 0, len(line)
    while i < n:
        if in_comment:
            end = line.find('*/', i)
            if end < 0:
                out.append(' ' * (n - i))
                break
            out.append(' ' * (end + 2 - i))
            i, in_comment = end + 2, False
        elif line.startswith('/*', i):
            out.append('  ')
            i, in_comment = i + 2, True
        elif line.startswith('//', i):
            out.append(' ' * (n - i))
            break
        elif line[i] in '"\'':
            quote = line[i]
            out.append(quote)
            i += 1
            while i < n and line[i] != quote:
                step = 2 if line[i] == '\\' else 1
                out.append(' ' * step)
                i += step
            out.append(quote)
            i += 1
        else:
            out.append(line[i])
            i += 1
    return ''.join(out), in_comment


def convert(text):
    out = []
    blocks = []      # per open brace: True when it is a converted control block
    in_comment = False
    header = None    # (indent, open parens) of a control statement spanning lines
    for line in text.split('\n'):
        was_comment = in_comment
        blanked, in_comment = blank_comments_and_strings(line, in_comment)
        shift = 2 * sum(blocks)
        code = blanked.strip()
        if not line.strip():
            out.append(line)
            continue
        if was_comment or not code or code.startswith('#'):
            out.append(' ' * shift + line)
            continue
        indent = len(line) - len(line.lstrip(' '))
        body = line.strip()
        if code.startswith('}'):
            converted = blocks.pop()
            shift = 2 * sum(blocks)
            rest, rest_code = body[1:].lstrip(), code[1:].lstrip()
            if not converted:
                out.append(' ' * shift + line)
                if rest_code.endswith('{') and rest_code.count('{') > rest_code.count('}'):
                    blocks.append(False)
                continue
            out.append(' ' * (indent + shift + 2) + '}' + ('' if CONTROL.match(rest_code) else rest))
            if not CONTROL.match(rest_code):
                continue
            body, code = rest, rest_code      # "} else ...", "} while (...);"
        opens = code.count('{') - code.count('}')
        parens = code.count('(') - code.count(')')
        starts_control = CONTROL.match(code) is not None
        base = header[0] if header else indent
        depth = header[1] + parens if header else (parens if starts_control else 0)
        if (header or starts_control) and depth == 0 and code.endswith('{') and opens == 1:
            brace = blanked.rfind('{')
            head, comment = line[:brace].strip(), line[brace + 1:].strip()
            if head.startswith('}'):          # "} else {": the "}" is out already
                head = head[1:].lstrip()
            if head:
                out.append(' ' * (indent + shift) + head)
            out.append(' ' * (base + shift + 2) + '{' + (' ' + comment if comment else ''))
            blocks.append(True)
            header = None
            continue
        out.append(' ' * (indent + shift) + body)
        if header:
            header = (header[0], depth) if depth > 0 else None
        elif starts_control and depth > 0:
            header = (indent, depth)
        blocks.extend([False] * max(opens, 0))
        del blocks[len(blocks) - max(-opens, 0):]
    if blocks:
        raise ValueError('unbalanced braces')
    return '\n'.join(out)


def main():
    for path in sys.argv[1:]:
        with open(path) as f:
            source = f.read()
        result = convert(source)
        if re.sub(r'\s', '', result) != re.sub(r'\s', '', source):
            sys.exit(path + ': the tokens would change; left as it is')
        with open(path, 'w') as f:
            f.write(result)
        for number, line in enumerate(result.split('\n'), 1):
            if len(line) > 100:
                print('%s:%d: now %d columns, wrap it by hand' % (path, number, len(line)),
                      file=sys.stderr)


if __name__ == '__main__':
    main()
