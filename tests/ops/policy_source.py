"""Reads the seccomp allow-list tables of sipd/ and rtpd/ (sandbox_policy.cpp).

Shared by the man page check and used to write the tables of
sipmasq-sipd(8) and sipmasq-rtpd(8). A process's table is joined from the
children's base (common/seccomp_base.h) and its own rules:
  constexpr auto kSipdRules = join_rules(kChildBaseRules, kSipdOwnRules);
read_sections() follows that line to the tables it names, in the policy
file or a header it includes. Only the shape the tables are written in is
understood: allow("name", "why"), allow_if("name", "why", checks...),
fail_if(ERRNO, "name", "why", checks...).
"""
import os
import re

_CALL = re.compile(r'\b(allow|allow_if|fail_if)\(')


def _balanced(text, start):
    """The text from `start` (just after an opening parenthesis) to its match."""
    depth = 1
    i = start
    in_string = False
    while i < len(text):
        c = text[i]
        if in_string:
            if c == '\\':
                i += 1
            elif c == '"':
                in_string = False
        elif c == '"':
            in_string = True
        elif c == '(':
            depth += 1
        elif c == ')':
            depth -= 1
            if depth == 0:
                return text[start:i]
        i += 1
    raise ValueError('unbalanced parenthesis')


def _split_args(text):
    args, depth, cur, in_string = [], 0, '', False
    for c in text:
        if in_string:
            cur += c
            if c == '"':
                in_string = False
            continue
        if c == '"':
            in_string = True
        elif c == '(':
            depth += 1
        elif c == ')':
            depth -= 1
        elif c == ',' and depth == 0:
            args.append(cur.strip())
            cur = ''
            continue
        cur += c
    if cur.strip():
        args.append(cur.strip())
    return args


def _unquote(arg):
    # Adjacent literals ("a" "b") are one string in C++.
    parts = re.findall(r'"((?:[^"\\]|\\.)*)"', arg)
    if not parts:
        raise ValueError('not a string literal: ' + arg)
    return ''.join(parts)


def _table_rules(text, table):
    """The rules of `SyscallRule table[] = {...};` in text, or None."""
    m = re.search(r'SyscallRule\s+%s\[\]\s*=\s*\{' % re.escape(table), text)
    if not m:
        return None
    end = text.index('\n};', m.end())
    body = re.sub(r'//[^\n]*', '', text[m.end():end])
    rules = []
    for call in _CALL.finditer(body):
        args = _split_args(_balanced(body, call.end()))
        kind = call.group(1)
        err = None
        if kind == 'fail_if':
            err, args = args[0], args[1:]
        rules.append((kind, _unquote(args[0]), _unquote(args[1]), args[2:], err))
    return rules


def _read(path):
    with open(path, encoding='utf-8') as f:
        return f.read()


def _included_files(path, text):
    """The files of the #include "..." lines: beside `path`, or in common/."""
    here = os.path.dirname(os.path.abspath(path))
    root = os.path.dirname(here)
    found = []
    for name in re.findall(r'^#include "([^"]+)"', text, re.M):
        for candidate in (os.path.join(here, name), os.path.join(root, 'common', name),
                          os.path.join(root, name)):
            if os.path.isfile(candidate):
                found.append(candidate)
                break
    return found


def read_sections(path):
    """[(file the table is in, relative to the source root, [rules])] in the
    order join_rules() puts them: the base, then the process's own."""
    text = _read(path)
    m = re.search(r'constexpr\s+auto\s+k\w+Rules\s*=\s*join_rules\(([^)]*)\);', text)
    if not m:
        raise ValueError(path + ': no "constexpr auto k...Rules = join_rules(...)" found')
    root = os.path.dirname(os.path.dirname(os.path.abspath(path)))
    sections = []
    for table in (t.strip() for t in m.group(1).split(',')):
        for candidate in [path] + _included_files(path, text):
            rules = _table_rules(_read(candidate), table)
            if rules is not None:
                sections.append((os.path.relpath(os.path.abspath(candidate), root), rules))
                break
        else:
            raise ValueError('%s: the table %s is in neither it nor its includes' % (path, table))
    return sections


def read_rules(path):
    """[(kind, name, why, [check expressions], errno or None)]: the table the
    process loads, in order."""
    return [rule for _, rules in read_sections(path) for rule in rules]


# Names of the arguments the tables filter on, for the man pages.
_ARG_NAMES = {
    'socket': ['domain', 'type', 'protocol'],
    'setsockopt': ['fd', 'level', 'optname'],
    'getsockopt': ['fd', 'level', 'optname'],
    'fcntl': ['fd', 'cmd'],
    'ioctl': ['fd', 'request'],
    'prctl': ['option'],
    'tgkill': ['tgid', 'tid', 'sig'],
    'mmap': ['addr', 'length', 'prot'],
    'mprotect': ['addr', 'len', 'prot'],
    'newfstatat': ['dirfd', 'pathname', 'statbuf', 'flags'],
}

_CHECK = re.compile(r'^(arg_eq|arg_masked_eq|arg_without|arg_only|arg_self_pid)\((.*)\)$')


def _constants(expr):
    """'A | B' -> 'Dv A | Dv B' (mdoc); a plain number stays as it is."""
    out = []
    for part in expr.split('|'):
        part = part.strip()
        out.append(part if re.fullmatch(r'-?\d+', part) else 'Dv ' + part)
    return ' | '.join(out)


def describe_check(syscall, check):
    m = _CHECK.match(check)
    if not m:
        raise ValueError('unknown argument check: ' + check)
    kind, args = m.group(1), _split_args(m.group(2))
    index = int(args[0])
    names = _ARG_NAMES.get(syscall, [])
    arg = names[index] if index < len(names) else 'arg%d' % index
    if kind == 'arg_eq':
        return 'No %s = %s' % (arg, _constants(args[1]))
    if kind == 'arg_without':
        return 'No %s without %s' % (arg, _constants(args[1]))
    if kind == 'arg_only':
        return 'No %s has no flag but %s' % (arg, _constants(args[1]))
    if kind == 'arg_self_pid':
        return 'No %s = the process\'s own pid' % arg
    mask, value = args[1], args[2]
    if mask == 'kSockTypeMask':
        return ('No %s = %s , No with or without Dv SOCK_NONBLOCK , SOCK_CLOEXEC'
                % (arg, _constants(value)))
    if mask == value:
        return 'No %s include %s' % (arg, _constants(value))
    raise ValueError('cannot describe ' + check)


_MACRO_LIKE = re.compile(r'^(?:[A-Z][a-z]{1,2}|%[A-Z])$')


def _text(words):
    """Free text as mdoc macro arguments: words that look like macros are escaped."""
    out = []
    for word in words.replace('\\', '\\e').split():
        out.append('\\&' + word if _MACRO_LIKE.match(word) else word)
    return ' '.join(out)


# mandoc -Tlint wants input lines of at most 80 bytes.
MAX_LINE = 80
# Macros the rows use; any other word is text, and .No carries text.
_MACROS = {'No', 'Dv', 'Er', 'Sy', 'Ta'}
_DELIMITERS = {',', ':', ';', '|', '.', '(', ')'}
# A line ending a sentence gets a wider space after it: no line ends with
# such a word, so the wrapping changes nothing on the page.
_SENTENCE_END = re.compile(r'[.!?][)\'"]*$')
# mandoc wants a blank before a delimiter that ends a line ("child ,"): no
# line ends with a word that carries one.
_TRAILING_DELIMITER = re.compile(r'[,;:]$')


def _wrap_macro_line(line):
    """A macro line of more than MAX_LINE bytes as several macro lines that
    mandoc renders alike: each continuation starts with the macro that
    follows, or with .No before text (inside a .Bl -column row they all
    continue its last cell)."""
    if len(line.encode()) <= MAX_LINE:
        return [line]
    tokens = line.split()
    # A break may come before tokens[i]: not before punctuation, not after a
    # macro waiting for its argument, not after the end of a sentence.
    allowed = [i for i in range(3, len(tokens))
               if tokens[i] not in _DELIMITERS and tokens[i] != 'Ta' and
               tokens[i - 1] not in _MACROS and
               not _SENTENCE_END.search(tokens[i - 1]) and
               not _TRAILING_DELIMITER.search(tokens[i - 1])]
    lines, start = [], 0

    def render(first, end):
        words = tokens[first:end]
        if first > 0 and words[0] not in _MACROS:
            words = ['No'] + words
        text = ('' if first == 0 else '.') + ' '.join(words)
        # A closing parenthesis opened on an earlier line stands apart, as
        # mandoc wants a blank before a trailing delimiter.
        last = words[-1]
        if last.endswith(')') and len(last) > 1 and '(' not in text:
            text = text[:-1] + ' )'
        return text

    while True:
        end = len(tokens)
        if len(render(start, end).encode()) <= MAX_LINE:
            lines.append(render(start, end))
            return lines
        fits = [i for i in allowed if i > start and len(render(start, i).encode()) <= MAX_LINE]
        cut = fits[-1] if fits else next((i for i in allowed if i > start), None)
        if cut is None:
            lines.append(render(start, end))
            return lines
        lines.append(render(start, cut))
        start = cut


def _rows(rules):
    """(allowed rows, refused rows) of a table, as mdoc lines."""
    allowed, refused = [], []
    for kind, name, why, checks, err in rules:
        if checks:
            cond = 'only if ' + ' , '.join(describe_check(name, c) for c in checks)
            text = cond + ' : No ' + _text(why)
        else:
            text = 'always : No ' + _text(why)
        row = '.It Sy %s Ta %s' % (name, text)
        if err is None:
            allowed.extend(_wrap_macro_line(row))
        else:
            refused.extend(_wrap_macro_line(row + ' ; No fails with Er %s' % err))
    return allowed, refused


_HEAD = '.Bl -column "rt_sigprocmask" "Allowed when, and what for" -compact'


def man_block(sections):
    """The lines between the SYSCALL TABLE markers of sipmasq-sipd(8) /
    sipmasq-rtpd(8): the base both children load, then the process's own
    rules, each as a table named after its source file."""
    lines = []
    refused = []
    captions = [['The base both children load, from'], ['The rules of', '.Nm', 'alone, from']]
    for index, (source, rules) in enumerate(sections):
        allowed, more_refused = _rows(rules)
        refused.extend(more_refused)
        lines.append('.Pp')
        lines.extend(captions[min(index, len(captions) - 1)])
        lines.append('.Pa %s :' % source)
        if not allowed:
            continue
        lines.extend([_HEAD, '.It Em System call Ta Em Allowed when, and what for'])
        lines.extend(allowed)
        lines.append('.El')
    if refused:
        lines.append('.Pp')
        lines.append('These calls are not allowed but fail with an error instead of killing')
        lines.append('the process, because the C library tries them on its own and copes')
        lines.append('without them:')
        lines.extend([_HEAD.replace('Allowed when, and what for', 'Refused when, and why'),
                      '.It Em System call Ta Em Refused when, and why'])
        lines.extend(refused)
        lines.append('.El')
    return lines


BEGIN_MARK = '.\\" BEGIN SYSCALL TABLE (tests/ops/policy_source.py --man FILE writes it)'
END_MARK = '.\\" END SYSCALL TABLE'


def page_block(page_path):
    """The lines between the markers of a man page, or None without markers."""
    with open(page_path, encoding='utf-8') as f:
        lines = f.read().split('\n')
    if BEGIN_MARK not in lines or END_MARK not in lines:
        return None
    return lines[lines.index(BEGIN_MARK) + 1:lines.index(END_MARK)]


if __name__ == '__main__':
    import sys
    if len(sys.argv) != 3 or sys.argv[1] != '--man':
        sys.exit('usage: policy_source.py --man path/to/sandbox_policy.cpp')
    print('\n'.join([BEGIN_MARK] + man_block(read_sections(sys.argv[2])) + [END_MARK]))
