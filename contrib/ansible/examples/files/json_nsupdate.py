#!/usr/bin/python3
# json_nsupdate.py: the small helper of oneshot-json.yml.  It runs extauth
# in one-pass JSON mode and is its invoker: for each perform_challenge line
# it adds the TXT record with nsupdate and answers {"result": "ok"} on
# extauth's stdin; for each cleanup line it deletes the record.  It ends
# with one JSON object on stdout for Ansible:
#   {"changed": true|false, "rc": N, "lines": [every line extauth printed]}
# and exits with extauth's exit code.  changed is true when extauth handed
# out a challenge, that is when it ordered a certificate.
#
#   json_nsupdate.py EXTAUTH [ARG...]
#
# Configuration (environment): NSUPDATE_SERVER [127.0.0.1], NSUPDATE_PORT
# [53], NSUPDATE_KEY (TSIG key file, required), NSUPDATE_ZONE (empty:
# nsupdate finds it), NSUPDATE_TTL [60].
#
# The whole publishing step lives in here, in one process that holds
# extauth's pipes open until the CA has answered: that is why the two-step
# module (dns01-nsupdate.yml) fits Ansible better.  See the README.
import json
import os
import subprocess
import sys

# A line from extauth longer than this is not one of its lines.
MAX_LINE = 1 << 20
# Each nsupdate run may take this long (it retries a lost UDP packet).
NSUPDATE_TIMEOUT = 60


def nsupdate(op, record, value):
    """Adds or deletes one TXT value; returns None or an error text."""
    env = os.environ
    script = ['server %s %s' % (env.get('NSUPDATE_SERVER', '127.0.0.1'),
                                env.get('NSUPDATE_PORT', '53'))]
    if env.get('NSUPDATE_ZONE'):
        script.append('zone ' + env['NSUPDATE_ZONE'])
    if op == 'add':
        script.append('update add %s. %s IN TXT "%s"' %
                      (record, env.get('NSUPDATE_TTL', '60'), value))
    else:
        script.append('update delete %s. IN TXT "%s"' % (record, value))
    script.append('send')
    try:
        p = subprocess.run(['nsupdate', '-k', env['NSUPDATE_KEY']],
                           input='\n'.join(script) + '\n', text=True,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=NSUPDATE_TIMEOUT, check=False)
    except (OSError, KeyError, subprocess.TimeoutExpired) as e:
        return 'nsupdate %s %s: %s' % (op, record, e)
    if p.returncode != 0:
        return 'nsupdate %s %s: %s' % (op, record,
                                       (p.stderr or p.stdout).strip())
    return None


def answer(proc, error):
    """Acknowledges the last perform line (ok, or fail with ERROR)."""
    reply = {'result': 'ok'} if error is None else \
        {'result': 'fail', 'error': error}
    try:
        proc.stdin.write(json.dumps(reply) + '\n')
        proc.stdin.flush()
    except BrokenPipeError:
        pass    # extauth is gone; its exit code tells why


def main(argv):
    if len(argv) < 2:
        print('usage: json_nsupdate.py EXTAUTH [ARG...]', file=sys.stderr)
        return 2
    lines, performed = [], 0
    # Cleanup lines carry no txt_domain: the record of each challenge is
    # remembered by its token from the perform line.
    records = {}
    proc = subprocess.Popen(argv[1:], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)
    for raw in proc.stdout:
        try:
            line = json.loads(raw) if len(raw) <= MAX_LINE else None
        except ValueError:
            line = None
        if not isinstance(line, dict):
            print('json_nsupdate: extauth printed a line that is not a JSON '
                  'object: %r' % raw[:200], file=sys.stderr)
            proc.terminate()
            break
        lines.append(line)
        cmd = line.get('cmd')
        if cmd == 'perform_challenge':
            performed += 1
            if 'txt_domain' in line:
                err = nsupdate('add', line['txt_domain'], line['validation'])
                # dns-persist-01 has no token: its record is meant to stay
                if line.get('token'):
                    records[line['token']] = (line['txt_domain'],
                                              line['validation'])
            else:
                err = 'this helper publishes dns-01 records only'
            answer(proc, err)
        elif cmd == 'cleanup' and line.get('token') in records:
            err = nsupdate('delete', *records.pop(line['token']))
            if err is not None:
                print('json_nsupdate: ' + err, file=sys.stderr)
    proc.stdin.close()
    rc = proc.wait()
    print(json.dumps({'changed': performed > 0, 'rc': rc, 'lines': lines}))
    return rc


if __name__ == '__main__':
    sys.exit(main(sys.argv))
