#!/usr/bin/python
# -*- coding: utf-8 -*-
#
# certificate.py: the extauth.acme.certificate module.  It owns nothing on
# disk: every file (account, key, pending order, lineage) belongs to the
# extauth binary it runs, and this module only turns extauth's JSON lines
# into a task result and back.  Two calls make a certificate, as with
# community.crypto's acme_certificate: `certonly --defer` (step 1) and
# `resume --json ID` (step 2); in between the play publishes the
# challenges with whatever modules it has.
#
# Copyright: 2026 The extauth authors
# SPDX-License-Identifier: Apache-2.0

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
---
module: certificate
short_description: Obtain or renew an ACME certificate with extauth, in two steps
version_added: 0.1.0
description:
  - Drives the two-phase mode of C(extauth), an ACME (RFC 8555) client that
    leaves every domain-validation challenge to someone else.
  - "Step 1 (no C(data)): runs C(extauth certonly --defer). extauth creates
    the order, saves it as a pending order under C(work_dir) and exits at
    once; the module returns the challenges as structured data
    (C(challenges), C(challenge_data), C(challenge_data_dns)) and the
    pending order's C(id). The play then publishes them, for dns-01 with
    C(nsupdate), a DNS provider's module or anything else."
  - "Step 2 (C(data) is the registered result of step 1): runs
    C(extauth resume --json ID), which tells the CA to validate, waits for it,
    finalizes, saves the certificate and returns where it is and when it
    expires. The play then removes the records again."
  - When the certificate of these names exists and is not due for renewal,
    step 1 orders nothing and returns C(changed=false) with the certificate's
    paths, and step 2 with that result does nothing; so a play that runs
    both steps every day renews only when extauth says it is time.
  - extauth must be installed on the host that runs the module (usually
    C(delegate_to) the control node or a certificate host).
  - The output carries no secret. Private keys stay in extauth's files (only
    their paths are returned), the EAB HMAC key is marked C(no_log), and the
    challenge values are public by nature (they are published in DNS or over
    HTTP).
author:
  - The extauth authors
options:
  domains:
    description:
      - The names of the certificate. The first one names the lineage unless
        C(cert_name) is given.
      - Required in step 1. In step 2 the pending order already knows them.
    type: list
    elements: str
  cert_name:
    description:
      - The lineage name (C(--cert-name)), the directory under
        C(CONFIG_DIR/live/).
    type: str
  data:
    description:
      - The registered result of step 1. Given, the module finishes the
        pending order it names (step 2) instead of creating one.
      - A step-1 result that ordered nothing (the certificate was kept) makes
        step 2 a no-op that returns the same paths.
    type: dict
  state:
    description:
      - C(present) obtains or keeps the certificate (step 1 or 2).
      - C(cancelled) removes the pending order named by C(data)
        (C(extauth pending --cancel ID)), for a C(rescue) block after the
        records could not be published. It never revokes or deletes an
        issued certificate.
    type: str
    choices: [present, cancelled]
    default: present
  challenge:
    description:
      - The challenge type to ask for (C(--preferred-challenges)).
      - Wildcards need a DNS type; IP addresses need C(http-01).
        extauth does not defer tls-alpn-01, so it is not offered.
      - "C(dns-account-01) puts an account label in the record name, so
        several accounts can validate one name. C(dns-persist-01)'s record
        (C(_validation-persist.NAME)) is meant to stay: later orders of the
        account validate from it, so it is not in
        C(challenge_data_dns_cleanup)."
    type: str
    choices: [dns-01, dns-account-01, dns-persist-01, http-01]
    default: dns-01
  server:
    description:
      - The ACME directory URL (C(--server)). extauth's default is Let's
        Encrypt production.
    type: str
  ca_bundle:
    description:
      - A PEM file or hashed directory of CAs that extauth trusts for the ACME
        server (C(--ca-bundle)), for a private CA.
    type: path
  email:
    description:
      - Contact address of the ACME account. Without it the account is
        registered without one.
    type: str
  agree_tos:
    description:
      - Agree to the CA's terms of service (C(--agree-tos)). Needed the first
        time an account is registered.
    type: bool
    default: false
  eab_kid:
    description:
      - External account binding key id (C(--eab-kid)), for CAs that require
        one.
    type: str
  eab_hmac_key:
    description:
      - External account binding HMAC key (C(--eab-hmac-key)), base64url.
        Never shown in the module's output.
    type: str
  key_type:
    description:
      - The key type of the certificate (C(--key-type)); extauth's default is
        ECDSA P-256.
    type: str
    choices: [ecdsa, rsa]
  force:
    description:
      - Order a new certificate even if the existing one is not due
        (C(--force-renewal)).
    type: bool
    default: false
  config_dir:
    description:
      - extauth's C(--config-dir) (keys, certificates, renewal confs).
        Defaults to extauth's own (C(/etc/extauth) as root).
    type: path
  work_dir:
    description:
      - extauth's C(--work-dir), where pending orders live between the two
        steps. Both steps must use the same one.
    type: path
  logs_dir:
    description:
      - extauth's C(--logs-dir).
    type: path
  extra_args:
    description:
      - More extauth options for step 1, one list element per argument, for
        example C([--dns-wait, "30"]). They are recorded in the lineage like
        any option of certonly.
    type: list
    elements: str
    default: []
  executable:
    description:
      - The extauth program, a path or a name looked up in C(PATH).
    type: path
    default: extauth
notes:
  - Step 1 answers no challenge. The CA looks only in step 2, so the
    records must be visible to the CA's resolvers before step 2 runs.
  - A pending order expires at the time in C(expires) (the CA's order
    lifetime, often 7 days); step 2 after that fails, and step 1 must run
    again.
  - Two plays must not finish the same pending order at once; extauth lets
    one win and fails the other.
seealso:
  - name: extauth(1)
    description: The extauth manual, C(man extauth) (C(--defer), C(resume), C(pending)).
  - name: community.crypto.acme_certificate
    description: The two-step ACME module this one is modelled on.
    link: https://docs.ansible.com/ansible/latest/collections/community/crypto/acme_certificate_module.html
attributes:
  check_mode:
    support: full
    description: Orders nothing. Step 1 reports whether it would order (the
      certificate is missing or due); step 2 whether the pending order exists.
  diff_mode:
    support: none
'''

EXAMPLES = r'''
- name: Step 1, create the order and get the challenges
  extauth.acme.certificate:
    domains: [example.com, "*.example.com"]
    email: hostmaster@example.com
    agree_tos: true
  register: cert

- name: Publish the dns-01 records in BIND with nsupdate
  ansible.builtin.command:
    cmd: nsupdate -k /etc/bind/acme.key
    stdin: |
      server 192.0.2.53
      {% for record, values in cert.challenge_data_dns.items() %}
      {% for v in values %}
      update add {{ record }}. 60 IN TXT "{{ v }}"
      {% endfor %}
      {% endfor %}
      send
  when: cert.pending

- name: Step 2, let the CA validate and save the certificate
  extauth.acme.certificate:
    data: "{{ cert }}"
  register: done

- name: Show where it is
  ansible.builtin.debug:
    msg: "{{ done.fullchain_path }} expires {{ done.not_after }}"

- name: Give the order up when publishing failed (in a rescue block)
  extauth.acme.certificate:
    data: "{{ cert }}"
    state: cancelled
'''

RETURN = r'''
pending:
  description: Step 1 created a pending order that step 2 must finish.
  returned: success
  type: bool
  sample: true
id:
  description: The pending order's id, for C(extauth resume ID).
  returned: step 1 when an order was created; step 2
  type: str
  sample: Xk3_9aLq2mB7
expires:
  description: When the pending order expires at the CA (RFC 3339, UTC).
  returned: step 1 when an order was created
  type: str
  sample: "2026-12-05T18:00:00Z"
cert_name:
  description: The lineage name.
  returned: success
  type: str
  sample: example.com
challenges:
  description:
    - The challenges to publish, one per name, as extauth's
      C(perform_challenge) lines without their C(cmd) key.
    - dns-01 has C(domain), C(token), C(validation) (the TXT value),
      C(txt_domain) (the record name) and C(key_auth); http-01 has C(uri)
      and C(validation) (the file's content).
  returned: step 1 when an order was created
  type: list
  elements: dict
  sample:
    - type: dns-01
      domain: example.com
      token: LoqXcYV8q5ONbJQxbmR7SCTNo3tiAXDfowyjxAjEuX0
      validation: Y3kDVrHH8rnDdTa-TpqXH2xrMUtI0CKu6M-Gv5Z7Fc8
      txt_domain: _acme-challenge.example.com
      key_auth: LoqXcYV8q5ONbJQxbmR7SCTNo3tiAXDfowyjxAjEuX0.9jg46WB3rR_AHD-EBXdN7cBkH1WOu0tA3M9fm21mqTI
challenge_data:
  description:
    - The same challenges keyed by name and type, in the shape of
      community.crypto's acme_certificate, so plays written for it need
      little change. C(resource) is the record name (dns) or the URL path
      (http), C(resource_value) what to publish there, and C(record) the
      full record name (dns).
  returned: step 1 when an order was created
  type: dict
  sample:
    example.com:
      dns-01:
        resource: _acme-challenge
        resource_value: Y3kDVrHH8rnDdTa-TpqXH2xrMUtI0CKu6M-Gv5Z7Fc8
        record: _acme-challenge.example.com
challenge_data_dns:
  description:
    - The TXT records to create, record name to list of values. A name and
      its wildcard share one record with two values.
  returned: step 1 when an order was created
  type: dict
  sample:
    _acme-challenge.example.com:
      - Y3kDVrHH8rnDdTa-TpqXH2xrMUtI0CKu6M-Gv5Z7Fc8
      - 4uqG0Gp3Gk0J6lOH2qBvVfGXyZ7Y0yTgZyJt3p1v5Zc
challenge_data_dns_cleanup:
  description:
    - "The records of C(challenge_data_dns) to remove once step 2 is done:
      all of them except C(dns-persist-01)'s, which stay for later orders."
  returned: step 1 when an order was created
  type: dict
superseded:
  description:
    - "When this lineage had a pending order from an earlier step 1 (a play
      run again before step 2), extauth gives it up for the new one: these
      are its challenges (extauth's C(cleanup) lines without C(cmd)), whose
      records can go."
  returned: step 1 when an order was created
  type: list
  elements: dict
cleanup:
  description:
    - What the CA decided for each challenge (extauth's C(cleanup) lines
      without C(cmd)), with C(status), C(validated) and C(error).
  returned: step 2
  type: list
  elements: dict
cert_path:
  description: The certificate (C(live/NAME/cert.pem)).
  returned: when a certificate exists (kept or issued)
  type: str
  sample: /etc/extauth/live/example.com/cert.pem
chain_path:
  description: The intermediate certificates.
  returned: when a certificate exists
  type: str
fullchain_path:
  description: Certificate and chain, what a web server wants.
  returned: when a certificate exists
  type: str
key_path:
  description: The private key's path (mode 0600; its content is never returned).
  returned: when a certificate exists
  type: str
not_after:
  description: The certificate's expiry (RFC 3339, UTC).
  returned: when a certificate exists
  type: str
  sample: "2027-02-26T17:59:00Z"
cert_days:
  description: Whole days until the certificate expires.
  returned: when a certificate exists
  type: int
  sample: 89
'''

import datetime
import json
import os
import re

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_text

# extauth's exit codes (extauth(1) EXIT STATUS), for messages that say what
# happened rather than a bare number.  Index = exit code.
EXIT_MEANING = (
    'success',
    'internal error',
    'usage: a bad option, name, file or handler',
    'CA, network or protocol failure',
    'the CA rejected a challenge',
    'the invoker or handler aborted',
    'local storage problem',
    'another extauth or certbot holds the config-dir lock',
    'some lineages failed',
    'rate limited by the CA',
    'the pending order cannot be resumed (expired, invalid, unknown or '
    'being resumed elsewhere)',
)

# extauth's exit code for a pending order that cannot be resumed.
ERR_PENDING = 10

# What starts each of extauth's stderr lines.
PREFIX_RE = re.compile(r'^extauth: (error: |warning: )?')

# The pending order id, as extauth prints it; checked before it reaches an
# argv, since data comes from the play and may have been edited.
ID_RE = re.compile(r'^[A-Za-z0-9_-]{1,64}$')



def dns_entry(c):
    """challenge_data of a DNS challenge: resource is the part of the record
    name before the name validated (_acme-challenge, _LABEL._acme-challenge,
    _validation-persist)."""
    base = '.' + c['domain'][2:] if c['domain'].startswith('*.') else \
        '.' + c['domain']
    record = c['txt_domain']
    return {
        'resource': record[:-len(base)] if record.endswith(base) else record,
        'resource_value': c['validation'],
        'record': record,
    }


# Per challenge type: the challenge_data entry (community.crypto's shape),
# built from the keys of the perform_challenge line, and whether its record
# stays after the order (dns-persist-01's is meant to be reused).
CHALLENGE_TYPES = {
    'dns-01': (dns_entry, False),
    'dns-account-01': (dns_entry, False),
    'dns-persist-01': (dns_entry, True),
    'http-01': (lambda c: {
        'resource': '.well-known/acme-challenge/' + c['token'],
        'resource_value': c['validation'],
        'uri': c.get('uri'),
    }, False),
}

# The keys of certificates --json that become return values, and their
# names there.
CERT_KEYS = (
    ('cert_path', 'cert_path'),
    ('chain_path', 'chain_path'),
    ('fullchain_path', 'fullchain_path'),
    ('key_path', 'key_path'),
    ('not_after', 'not_after'),
    ('cert_days', 'valid_days'),
)

# A line longer than this is not one of extauth's; it is refused rather than
# parsed (the cap on what comes from outside).
MAX_LINE = 1 << 20


class Extauth(object):
    """One extauth program with the directory options of this task."""

    def __init__(self, module):
        self.module = module
        p = module.params
        exe = p['executable']
        if '/' not in exe:
            exe = module.get_bin_path(exe, required=True)
        self.exe = exe
        self.dirs = []
        for opt, key in (('--config-dir', 'config_dir'),
                         ('--work-dir', 'work_dir'),
                         ('--logs-dir', 'logs_dir')):
            if p[key]:
                self.dirs += [opt, p[key]]

    def run(self, args):
        """Runs extauth with ARGS; returns (rc, parsed stdout lines, stderr)."""
        rc, out, err = self.module.run_command([self.exe] + args + self.dirs)
        return rc, self.lines(out, rc, err), err

    def lines(self, out, rc, err):
        """stdout as a list of JSON objects: in JSON mode extauth prints
        nothing else there, so anything else is a failure to report."""
        objs = []
        for raw in to_text(out).splitlines():
            if not raw.strip():
                continue
            if len(raw) > MAX_LINE:
                self.fail('extauth printed a line of %d bytes' % len(raw),
                          rc, err)
            try:
                obj = json.loads(raw)
            except ValueError:
                obj = None
            if not isinstance(obj, dict):
                # certificates --json is one pretty-printed document, not
                # lines: give the whole text one more chance.
                try:
                    obj = json.loads(to_text(out))
                except ValueError:
                    self.fail('extauth printed something that is not JSON '
                              'on stdout: %r' % raw[:200], rc, err)
                return [obj] if isinstance(obj, dict) else []
            objs.append(obj)
        return objs

    def fail(self, what, rc, err, lines=None, **extra):
        """Fails the task with extauth's own error lines, once."""
        report = []
        for line in lines or []:
            if line.get('cmd') == 'report':
                for m in line.get('messages') or []:
                    report += [to_text(x) for x in m.get('lines') or []]
            elif line.get('ok') is False and line.get('error'):
                # a --json verb's result line: {"cmd", "ok": false, "error"}
                report.append(to_text(line['error']))
        # extauth's two lines (what is wrong; what to do), without the
        # "extauth: error: " each stderr line starts with.
        said = report or [PREFIX_RE.sub('', x) for x in
                          to_text(err).splitlines()
                          if x.startswith('extauth:')][-4:]
        meaning = ''
        if isinstance(rc, int) and 0 < rc < len(EXIT_MEANING):
            meaning = ' (exit %d: %s)' % (rc, EXIT_MEANING[rc])
        elif rc:
            meaning = ' (exit %s)' % rc
        msg = what + meaning
        if said:
            msg += ': ' + '; '.join(said)
        if rc == ERR_PENDING:
            msg += '. Run step 1 (the task without data) again for a new order.'
        self.module.fail_json(msg=msg, rc=rc, stderr=to_text(err),
                              **extra)

    def certificate(self, name=None, domains=None):
        """The certificates --json entry of lineage NAME, or else the one
        whose names are exactly DOMAINS; None when there is none."""
        args = ['certificates', '--json']
        if name:
            args += ['--cert-name', name]
        rc, objs, err = self.run(args)
        if rc != 0:
            self.fail('extauth certificates failed', rc, err, objs)
        rows = []
        for o in objs:
            rows += o.get('certificates', [o] if 'name' in o else [])
        want = set(domains or [])
        for r in rows:
            if name and r.get('name') == name:
                return r
            if not name and want and set(r.get('domains') or []) == want:
                return r
        return None

    def pending_ids(self):
        """The ids of the pending orders (extauth pending --json)."""
        rc, objs, err = self.run(['pending', '--json'])
        if rc != 0:
            self.fail('extauth pending failed', rc, err, objs)
        return set(o.get('id') for o in objs)


def cert_result(row):
    """The return values of a certificates --json entry."""
    res = {}
    for ret, key in CERT_KEYS:
        if row.get(key) is not None:
            res[ret] = row[key]
    return res


def days_left(not_after):
    """Whole days from now to NOT_AFTER (RFC 3339, UTC, as extauth prints
    it), 0 once past; None when it cannot be read."""
    try:
        t = datetime.datetime.strptime(not_after, '%Y-%m-%dT%H:%M:%SZ')
    except (TypeError, ValueError):
        return None
    left = t - datetime.datetime.utcnow()
    return max(0, left.days)


def challenge_views(challenges):
    """challenge_data, challenge_data_dns and challenge_data_dns_cleanup of
    the perform lines."""
    data, dns, cleanup = {}, {}, {}
    for c in challenges:
        make, stays = CHALLENGE_TYPES.get(c.get('type'), (None, False))
        if make is not None:
            data.setdefault(c['domain'], {})[c['type']] = make(c)
        if c.get('txt_domain') and c.get('validation'):
            dns.setdefault(c['txt_domain'], []).append(c['validation'])
            if not stays:
                cleanup.setdefault(c['txt_domain'], []).append(
                    c['validation'])
    return data, dns, cleanup


def step1_args(p):
    """certonly --defer's argv for the task's parameters."""
    args = ['certonly', '--defer', '-n', '--mode', 'json',
            '--preferred-challenges', p['challenge']]
    for d in p['domains']:
        args += ['-d', d]
    for opt, key in (('--cert-name', 'cert_name'), ('--server', 'server'),
                     ('--ca-bundle', 'ca_bundle'), ('--key-type', 'key_type'),
                     ('--eab-kid', 'eab_kid'),
                     ('--eab-hmac-key', 'eab_hmac_key')):
        if p[key]:
            args += [opt, p[key]]
    if p['email']:
        args += ['--email', p['email']]
    else:
        args += ['--register-unsafely-without-email']
    if p['agree_tos']:
        args += ['--agree-tos']
    if p['force']:
        args += ['--force-renewal']
    return args + list(p['extra_args'])


def step1(module, ext):
    """Creates the order (or keeps the certificate) and returns the
    challenges."""
    p = module.params
    if not p['domains']:
        module.fail_json(msg='domains is required without data (step 1): '
                         'give the names of the certificate')
    if module.check_mode:
        # Would certonly order?  Only when there is no certificate of these
        # names, or extauth itself says it is due (its rule, not ours).
        row = ext.certificate(p['cert_name'], p['domains'])
        keep = (row is not None and row.get('status') == 'valid' and
                not row.get('due') and not p['force'] and
                set(row.get('domains') or []) == set(p['domains']))
        res = dict(changed=not keep, pending=False)
        if keep:
            res.update(cert_result(row), cert_name=row['name'])
        module.exit_json(**res)

    rc, objs, err = ext.run(step1_args(p))
    if rc != 0:
        ext.fail('extauth certonly --defer failed', rc, err, objs)
    challenges = [dict((k, v) for k, v in o.items() if k != 'cmd')
                  for o in objs if o.get('cmd') == 'perform_challenge']
    # A pending order of this lineage from an earlier step 1 is superseded:
    # extauth prints its cleanup lines first.
    superseded = [dict((k, v) for k, v in o.items() if k != 'cmd')
                  for o in objs if o.get('cmd') == 'cleanup']
    deferred = [o for o in objs if o.get('cmd') == 'deferred']
    if not deferred:
        # Nothing was ordered: the certificate is not due and was kept.
        row = ext.certificate(p['cert_name'], p['domains'])
        if row is None:
            ext.fail('extauth certonly --defer neither deferred an order '
                     'nor kept a certificate', rc, err, objs)
        module.exit_json(changed=False, pending=False, cert_name=row['name'],
                         **cert_result(row))
    d = deferred[-1]
    if not ID_RE.match(to_text(d.get('id') or '')):
        ext.fail('extauth printed a deferred line without a valid id', rc,
                 err, objs)
    data, dns, cleanup = challenge_views(challenges)
    module.exit_json(changed=True, pending=True, id=d['id'],
                     expires=d.get('expires'), cert_name=d.get('cert_name'),
                     challenges=challenges, challenge_data=data,
                     challenge_data_dns=dns,
                     challenge_data_dns_cleanup=cleanup,
                     superseded=superseded)


def pending_id(module, data):
    """The id of the pending order in DATA, checked; None if DATA says step 1
    ordered nothing."""
    if not data.get('pending'):
        return None
    pid = to_text(data.get('id') or '')
    if not ID_RE.match(pid):
        module.fail_json(msg='data has no valid pending order id (%r): pass '
                         'the registered result of step 1' % pid[:80])
    return pid


def step2(module, ext):
    """Finishes the pending order of data."""
    data = module.params['data']
    pid = pending_id(module, data)
    if pid is None:
        # Step 1 kept the certificate: nothing to finish.
        res = dict((k, data[k]) for k, _ in CERT_KEYS if k in data)
        module.exit_json(changed=False, pending=False,
                         cert_name=data.get('cert_name'), **res)
    if module.check_mode:
        if pid not in ext.pending_ids():
            module.fail_json(msg='pending order %s does not exist (finished, '
                             'cancelled or expired): run step 1 again' % pid)
        module.exit_json(changed=True, pending=True, id=pid,
                         cert_name=data.get('cert_name'))

    # --json: after the cleanup lines, one line with the lineage the order
    # became (or the error) instead of the report line.
    rc, objs, err = ext.run(['resume', '--json', pid])
    cleanup = [dict((k, v) for k, v in o.items() if k != 'cmd')
               for o in objs if o.get('cmd') == 'cleanup']
    if rc != 0:
        ext.fail('extauth resume %s failed' % pid, rc, err, objs,
                 cleanup=cleanup, id=pid)
    done = [o for o in objs if o.get('cmd') == 'resume' and o.get('ok')]
    if not done or not done[-1].get('fullchain_path'):
        ext.fail('extauth resume --json %s printed no result line' % pid, rc,
                 err, objs)
    row = dict(done[-1], valid_days=days_left(done[-1].get('not_after')))
    module.exit_json(changed=True, pending=False, id=pid,
                     cert_name=row.get('cert_name'), cleanup=cleanup,
                     **cert_result(row))


def cancel(module, ext):
    """Removes the pending order of data, if it is still there."""
    pid = pending_id(module, module.params['data'] or {})
    if pid is None or pid not in ext.pending_ids():
        module.exit_json(changed=False, pending=False, id=pid)
    if not module.check_mode:
        rc, objs, err = ext.run(['pending', '--cancel', pid])
        if rc != 0:
            ext.fail('extauth pending --cancel %s failed' % pid, rc, err,
                     objs)
    module.exit_json(changed=True, pending=False, id=pid)


# The options, as DOCUMENTATION describes them (ansible.bats checks that
# the two agree, which validate-modules would if it ran offline).
ARGUMENT_SPEC = dict(
    domains=dict(type='list', elements='str'),
    cert_name=dict(type='str'),
    data=dict(type='dict'),
    state=dict(type='str', default='present',
               choices=['present', 'cancelled']),
    challenge=dict(type='str', default='dns-01',
                   choices=sorted(CHALLENGE_TYPES)),
    server=dict(type='str'),
    ca_bundle=dict(type='path'),
    email=dict(type='str'),
    agree_tos=dict(type='bool', default=False),
    eab_kid=dict(type='str'),
    eab_hmac_key=dict(type='str', no_log=True),
    key_type=dict(type='str', choices=['ecdsa', 'rsa']),
    force=dict(type='bool', default=False),
    config_dir=dict(type='path'),
    work_dir=dict(type='path'),
    logs_dir=dict(type='path'),
    extra_args=dict(type='list', elements='str', default=[]),
    executable=dict(type='path', default='extauth'),
)


def main():
    module = AnsibleModule(
        argument_spec=ARGUMENT_SPEC,
        required_if=[('state', 'cancelled', ['data'])],
        supports_check_mode=True,
    )
    # extauth in JSON mode reads acknowledgements on stdin.  Neither step
    # should ever wait for one (step 1 defers, step 2 answers the CA
    # itself), so give it an empty stdin: if it ever asks, it sees end of
    # input and fails at once instead of hanging on whatever stdin the
    # connection plugin left the module.
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)

    ext = Extauth(module)
    if module.params['state'] == 'cancelled':
        cancel(module, ext)
    elif module.params['data'] is not None:
        step2(module, ext)
    else:
        step1(module, ext)


if __name__ == '__main__':
    main()
