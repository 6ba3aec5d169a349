"""Differential oracle: evaluates what policy_oslo_test.go asks with the
real oslo.policy and prints the answers as JSON.

Input (stdin, JSON):
  {"parse": [check strings],
   "literals": [attribute texts],
   "scenarios": [{"defaults": [{"name", "check", "scope_types",
                                "deprecated": {"name", "check"} | null}],
                  "file": policy file text | null,
                  "enforce_scope": bool, "enforce_new_defaults": bool,
                  "describe": [rule names],
                  "cases": [{"rule", "target", "creds"}]}]}
Output: the same shape with answers.
"""
import ast
import json
import logging
import os
import sys
import tempfile
import warnings

from oslo_config import cfg
from oslo_policy import _checks
from oslo_policy import _external
from oslo_policy import _parser
from oslo_policy import policy

warnings.simplefilter('ignore')


class Capture(logging.Handler):
    def __init__(self):
        super().__init__(logging.ERROR)
        self.records = []

    def emit(self, record):
        self.records.append(record)


capture = Capture()
parser_log = logging.getLogger('oslo_policy._parser')
parser_log.addHandler(capture)
parser_log.propagate = False


class Probe(dict):
    def __missing__(self, key):
        return 'x'


def leaves(check):
    if isinstance(check, (_checks.AndCheck, _checks.OrCheck)):
        for r in check.rules:
            yield from leaves(r)
    elif isinstance(check, _checks.NotCheck):
        yield from leaves(check.rule)
    else:
        yield check


def issues(check):
    """What makes a parsed check raise (or look up nothing) at enforcement."""
    out = []
    for leaf in leaves(check):
        if isinstance(leaf, (_external.HttpCheck, _external.HttpsCheck)):
            out.append('http')
            continue
        if isinstance(leaf, (_checks.GenericCheck, _checks.RoleCheck)):
            try:
                leaf.match % Probe()
            except Exception as e:
                out.append('format:' + type(e).__name__)
        if isinstance(leaf, _checks.GenericCheck):
            out.extend(attr_issue(leaf.kind))
    return out


def attr_issue(kind):
    try:
        ast.literal_eval(kind)
        return []
    except ValueError:
        segs = kind.split('.')
        if all(s.isidentifier() for s in segs):
            return []
        return ['attr-path']
    except Exception as e:
        return ['attr:' + type(e).__name__]


def parse_one(s):
    capture.records.clear()
    try:
        r = _parser.parse_rule(s)
    except Exception as e:
        return {'ok': False, 'str': 'exception:' + type(e).__name__}
    ok = not capture.records and isinstance(r, _checks.BaseCheck)
    try:
        text = str(r)
    except Exception:
        text = repr(r)
    out = {'ok': ok, 'str': text}
    if ok:
        out['issues'] = issues(r)
    return out


def literal_one(k):
    try:
        v = ast.literal_eval(k)
    except ValueError:
        return {'class': 'path' if all(s.isidentifier() for s in k.split('.')) else 'value-error'}
    except Exception as e:
        return {'class': 'error', 'str': type(e).__name__}
    try:
        return {'class': 'literal', 'str': str(v)}
    except Exception as e:
        return {'class': 'error', 'str': type(e).__name__}


def scenario(sc, tmp):
    conf = cfg.ConfigOpts()
    conf(args=[], default_config_files=[])
    path = None
    if sc.get('file') is not None:
        path = os.path.join(tmp, 'policy.yaml')
        with open(path, 'w') as f:
            f.write(sc['file'])
    enf = policy.Enforcer(conf, policy_file=path or os.path.join(tmp, 'absent.yaml'))
    conf.set_override('enforce_scope', sc.get('enforce_scope', False), group='oslo_policy')
    conf.set_override('enforce_new_defaults', sc.get('enforce_new_defaults', False), group='oslo_policy')
    defaults = []
    for d in sc['defaults']:
        dep = None
        if d.get('deprecated'):
            dep = policy.DeprecatedRule(d['deprecated']['name'], d['deprecated']['check'],
                                        deprecated_reason='r', deprecated_since='s')
        defaults.append(policy.RuleDefault(d['name'], d['check'], deprecated_rule=dep,
                                           scope_types=d.get('scope_types') or None))
    enf.register_defaults(defaults)
    enf.load_rules()
    out = {'describe': {}, 'results': []}
    for name in sc.get('describe', []):
        out['describe'][name] = str(enf.rules[name]) if name in enf.rules else ''
    for c in sc.get('cases', []):
        try:
            enf.enforce(c['rule'], c['target'], dict(c['creds']), do_raise=True)
            out['results'].append('allow')
        except policy.InvalidScope:
            out['results'].append('scope')
        except policy.PolicyNotAuthorized:
            out['results'].append('deny')
        except RecursionError:
            out['results'].append('error:RecursionError')
        except Exception as e:
            out['results'].append('error:' + type(e).__name__)
    return out


def main():
    req = json.load(sys.stdin)
    resp = {'parse': [parse_one(s) for s in req.get('parse', [])],
            'literals': [literal_one(k) for k in req.get('literals', [])],
            'scenarios': []}
    with tempfile.TemporaryDirectory() as tmp:
        os.chdir(tmp)
        for sc in req.get('scenarios', []):
            resp['scenarios'].append(scenario(sc, tmp))
    json.dump(resp, sys.stdout)


main()
