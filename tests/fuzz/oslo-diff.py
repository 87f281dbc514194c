#!/usr/bin/python3
"""Compare safepool's image inspector with OpenStack oslo.utils' one.

    tests/fuzz/oslo-diff.py [--json OUT] [--timeout S] OSLO_TREE SAFEPOOL DIR...

OSLO_TREE is an extracted oslo.utils source tree (the directory holding
oslo_utils/); it is imported at run time and needs Debian's python3-oslo.i18n
(and python3-cryptography, for its LUKS module). SAFEPOOL is the safepool
binary (build/src/tools/safepool). Every regular file under each DIR is run
through

  oslo:     format_inspector.detect_file_format(path), then the returned
            inspector's safety_check(). Accepted when both return; refused
            on ImageFormatError (no/ambiguous format, unparsable) or
            SafetyCheckFailed; anything else is an oslo crash.
  safepool: `safepool inspect --json path`; accepted when "safe" is true.

and put in one class:

  same           both accept, same format
  both-refuse    both refuse (the formats may still differ)
  oslo-only      oslo accepts, safepool refuses
  safepool-only  safepool accepts, oslo refuses
  format         both accept, but as different formats
  oslo-crash     oslo raised something other than its documented errors
  safepool-error safepool printed an error, no JSON, or died

Formats are compared under oslo's names: safepool's vpc is oslo's vhd,
safepool's gpt and mbr are both oslo's gpt (one inspector for both).
Besides oslo's verdict, the Nova verdict is shown where it differs: Nova
(nova/virt/images.py get_image_format) and Glance accept exactly the pair
iso+gpt as an iso, every other multiple match is refused.

Prints a summary table (per directory and total), then one line per file
for every disagreement: both verdicts and their reasons (oslo's exception
text and which inspectors it dropped on an exception, safepool's
violations), and for files both accept as the same format, a differing
virtual size. With --json, every record is written to OUT as well.
"""

import argparse
import collections
import contextlib
import json
import logging
import os
import signal
import subprocess
import sys
import traceback

CLASSES = ['same', 'both-refuse', 'oslo-only', 'safepool-only', 'format',
           'oslo-crash', 'safepool-error']
CLASS_TITLES = {
    'same': 'both accept, same format',
    'both-refuse': 'both refuse',
    'oslo-only': 'oslo accepts, safepool refuses',
    'safepool-only': 'safepool accepts, oslo refuses',
    'format': 'both accept, different format',
    'oslo-crash': 'oslo crashes',
    'safepool-error': 'safepool error',
}
# safepool format name -> oslo format name
SP_TO_OSLO = {'vpc': 'vhd', 'mbr': 'gpt'}


class Timeout(Exception):
    pass


@contextlib.contextmanager
def alarm(seconds):
    def fire(signum, frame):
        raise Timeout(f'oslo took more than {seconds} s')
    old = signal.signal(signal.SIGALRM, fire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


class Capture(logging.Handler):
    """Keeps oslo's log records of the file being inspected: which
    inspectors InspectWrapper dropped because they raised, and which safety
    checks raised something unexpected (turned into 'Unexpected error')."""

    def __init__(self):
        super().__init__(logging.DEBUG)
        self.records = []

    def emit(self, record):
        self.records.append(record)


def load_oslo(tree):
    sys.path.insert(0, os.path.abspath(tree))
    from oslo_utils.imageutils import format_inspector as fi
    log = logging.getLogger(fi.__name__)
    cap = Capture()
    log.addHandler(cap)
    log.setLevel(logging.DEBUG)
    log.propagate = False
    return fi, cap


def oslo_stream(fi, path):
    """Stream the whole file through InspectWrapper, 4 KiB at a time as
    detect_file_format reads. Returns every format matched when detection
    decided (InspectWrapper.formats, unlike .format, lists all of them) and
    the matching inspectors, by name, once the whole file was read:
    detect_file_format stops early, and the raw, gpt and luks inspectors
    size a file by the bytes they were fed (Glance feeds the whole upload)."""
    matches = None
    with open(path, 'rb') as f:
        wrapper = fi.InspectWrapper(f)
        try:
            while True:
                chunk = wrapper.read(4096)
                if not chunk:
                    break
                if matches is None:
                    matches = wrapper.formats
        finally:
            wrapper.close()
    if matches is None:
        matches = wrapper.formats or []
    return matches, {str(i): i for i in wrapper.formats or []}


def failures_text(exc):
    return '; '.join(f'{name}: {err}' for name, err in exc.failures.items())


def exc_text(e):
    tb = traceback.extract_tb(e.__traceback__)[-1]
    return (f'{type(e).__name__}: {e} '
            f'({os.path.basename(tb.filename)}:{tb.lineno})')


def inspect_oslo(fi, cap, path, timeout):
    r = {'verdict': None, 'format': None, 'matches': [], 'reason': '',
         'virtual_size': None, 'dropped': {}, 'check_errors': [],
         'nova_verdict': None, 'nova_format': None, 'size_error': None}
    cap.records.clear()
    try:
        with alarm(timeout):
            try:
                insp = fi.detect_file_format(path)
                r['format'] = str(insp)
                insp.safety_check()
                r['verdict'] = 'accept'
            except fi.SafetyCheckFailed as e:
                r['verdict'] = 'refuse'
                r['reason'] = f'SafetyCheckFailed: {failures_text(e)}'
            except fi.ImageFormatError as e:
                r['verdict'] = 'refuse'
                r['reason'] = f'ImageFormatError: {e}'
            matches, final = oslo_stream(fi, path)
            try:
                if r['format'] in final:
                    r['virtual_size'] = final[r['format']].virtual_size
            except Exception as e:
                # Glance reads virtual_size of the detected format (before
                # safety_check()): after a refusal that is only a note, after
                # an acceptance it counts as a crash
                r['size_error'] = exc_text(e)
                if r['verdict'] == 'accept':
                    raise
    except Exception as e:
        if r['verdict'] == 'accept':
            r['reason'] = 'safety_check() passed, then virtual_size: '
        r['verdict'] = 'crash'
        r['reason'] += exc_text(e)
        return r
    r['matches'] = sorted(str(m) for m in matches)
    for rec in cap.records:
        msg = rec.getMessage()
        if rec.msg.startswith('Format inspector for %s does not match'):
            name, err = rec.args
            r['dropped'][name] = f'{type(err).__name__}: {err}'
        elif rec.msg.startswith('Failed to run safety check'):
            r['check_errors'].append(msg)

    # Nova and Glance take iso+gpt as an iso (bootable-as-block isos)
    r['nova_verdict'], r['nova_format'] = r['verdict'], r['format']
    if set(r['matches']) == {'iso', 'gpt'}:
        iso = [m for m in matches if str(m) == 'iso'][0]
        r['nova_format'] = 'iso'
        try:
            iso.safety_check()
            r['nova_verdict'] = 'accept'
        except (fi.SafetyCheckFailed, fi.ImageFormatError):
            r['nova_verdict'] = 'refuse'
    return r


def inspect_safepool(binary, path, timeout):
    r = {'verdict': None, 'format': None, 'violations': [], 'reason': '',
         'virtual_size': None}
    try:
        p = subprocess.run([binary, 'inspect', '--json', path],
                           capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        r['verdict'], r['reason'] = 'error', f'timed out after {timeout} s'
        return r
    try:
        out = json.loads(p.stdout)[0]
    except (ValueError, IndexError, KeyError):
        out = None
    if p.returncode not in (0, 1) or not isinstance(out, dict) or \
            'error' in out:
        r['verdict'] = 'error'
        err = out.get('error') if isinstance(out, dict) else None
        r['reason'] = (f'exit {p.returncode}: '
                       f'{err or p.stderr.strip() or p.stdout.strip()}')
        return r
    r['format'] = out['format']
    r['violations'] = out['violations']
    r['virtual_size'] = out['virtual_size']
    r['verdict'] = 'accept' if out['safe'] else 'refuse'
    r['reason'] = ', '.join(out['violations'])
    return r


def oslo_name(sp_format):
    return SP_TO_OSLO.get(sp_format, sp_format)


def oslo_format_label(o):
    if o['format']:
        return o['format']
    if o['matches']:
        return '+'.join(o['matches'])
    return '?'


def classify(o, s):
    if o['verdict'] == 'crash':
        return 'oslo-crash'
    if s['verdict'] == 'error':
        return 'safepool-error'
    if o['verdict'] == 'accept' and s['verdict'] == 'accept':
        same = o['format'] == oslo_name(s['format'])
        return 'same' if same else 'format'
    if o['verdict'] == 'accept':
        return 'oslo-only'
    if s['verdict'] == 'accept':
        return 'safepool-only'
    return 'both-refuse'


def format_differs(o, s):
    if s['format'] is None:
        return False
    return oslo_format_label(o) != oslo_name(s['format'])


def describe(rec):
    o, s = rec['oslo'], rec['safepool']
    sp = f"{s['verdict']} {s['format'] or ''}".strip()
    if s['verdict'] == 'refuse' or s['verdict'] == 'error':
        sp += f" [{s['reason']}]"
    elif s['virtual_size'] is not None:
        sp += f" size={s['virtual_size']}"
    os_ = f"{o['verdict']} {oslo_format_label(o)}"
    if o['verdict'] != 'accept':
        os_ += f" [{o['reason']}]"
    elif o['virtual_size'] is not None:
        os_ += f" size={o['virtual_size']}"
    extra = []
    if o.get('matches') and len(o['matches']) > 1:
        extra.append('oslo matched ' + '+'.join(o['matches']))
    if o.get('nova_verdict') and o['nova_verdict'] != o['verdict']:
        extra.append(f"nova: {o['nova_verdict']} {o['nova_format']}")
    # an inspector oslo dropped because it raised: shown when it is the
    # format safepool found, or when it raised something unexpected
    dropped = {k: v for k, v in o.get('dropped', {}).items()
               if k == oslo_name(s['format'])
               or not v.startswith('ImageFormatError')}
    if dropped:
        extra.append('oslo dropped inspector ' + ', '.join(
            f'{k} ({v})' for k, v in sorted(dropped.items())))
    if o.get('size_error') and o['verdict'] != 'crash':
        extra.append('oslo virtual_size raised ' + o['size_error'])
    if o.get('check_errors'):
        extra.append('oslo check raised: ' + '; '.join(o['check_errors']))
    line = f"  {rec['path']}\n      oslo: {os_}\n      safepool: {sp}"
    for e in extra:
        line += f'\n      note: {e}'
    return line


def main():
    ap = argparse.ArgumentParser(
        description=__doc__.split('\n\n')[0],
        formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('oslo_tree')
    ap.add_argument('safepool')
    ap.add_argument('dirs', nargs='+', metavar='DIR')
    ap.add_argument('--json', metavar='OUT', help='write all records here')
    ap.add_argument('--timeout', type=int, default=60,
                    help='seconds per file and inspector (default 60)')
    args = ap.parse_args()

    fi, cap = load_oslo(args.oslo_tree)
    records = []
    for d in args.dirs:
        files = []
        for root, _dirs, names in os.walk(d):
            files += [os.path.join(root, n) for n in names]
        for path in sorted(files):
            if not os.path.isfile(path) or os.path.islink(path):
                continue
            o = inspect_oslo(fi, cap, path, args.timeout)
            s = inspect_safepool(args.safepool, path, args.timeout)
            rec = {'dir': d, 'path': path, 'oslo': o, 'safepool': s}
            rec['class'] = classify(o, s)
            rec['format_differs'] = format_differs(o, s)
            rec['size_differs'] = (
                rec['class'] == 'same' and
                o['virtual_size'] != s['virtual_size'])
            records.append(rec)

    # summary: one column per directory, then the total
    dirs = list(dict.fromkeys(args.dirs))
    counts = {d: collections.Counter(r['class'] for r in records
                                     if r['dir'] == d) for d in dirs}
    total = collections.Counter(r['class'] for r in records)
    heads = [os.path.basename(os.path.normpath(d)) or d for d in dirs]
    w0 = max(len(t) for t in CLASS_TITLES.values()) + 2
    cols = [max(len(h), 6) for h in heads] + [6]
    print(f"oslo.utils inspector vs safepool inspect: {len(records)} files")
    print('class'.ljust(w0) + ''.join(
        h.rjust(c + 2) for h, c in zip(heads + ['total'], cols)))
    for c in CLASSES:
        row = [counts[d][c] for d in dirs] + [total[c]]
        print(CLASS_TITLES[c].ljust(w0) + ''.join(
            str(v).rjust(w + 2) for v, w in zip(row, cols)))
    fd = sum(r['format_differs'] for r in records)
    sd = sum(r['size_differs'] for r in records)
    nova = sum(r['oslo'].get('nova_verdict') not in (None,
               r['oslo']['verdict']) for r in records)
    swallowed = sum(bool({k: v for k, v in r['oslo'].get('dropped', {})
                          .items() if not v.startswith('ImageFormatError')})
                    for r in records)
    print(f"format differs (any verdict): {fd}; virtual size differs "
          f"(same format, both accept): {sd}; Nova's iso+gpt rule changes "
          f"oslo's verdict: {nova}; oslo swallowed a non-ImageFormatError "
          f"exception in an inspector: {swallowed}")

    for c in ['oslo-crash', 'safepool-error', 'oslo-only', 'safepool-only',
              'format']:
        sel = [r for r in records if r['class'] == c]
        if sel:
            print(f"\n== {CLASS_TITLES[c]} ({len(sel)})")
            for r in sel:
                print(describe(r))
    sel = [r for r in records
           if r['class'] == 'both-refuse' and r['format_differs']]
    if sel:
        print(f"\n== both refuse, different format ({len(sel)})")
        for r in sel:
            print(describe(r))
    sel = [r for r in records if r['size_differs']]
    if sel:
        print(f"\n== same format, different virtual size ({len(sel)})")
        for r in sel:
            print(describe(r))
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(records, f, indent=1, default=str)
    return 0


if __name__ == '__main__':
    sys.exit(main())
