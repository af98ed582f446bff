"""Write docs/security.md's table of the Proxmox VE privileges each module needs.

The endpoints each module calls are listed here (read from plugins/module_utils/proxmox/); their
permissions come from the official API schema (apidata.json of pve-docs, a copy under
../shared/proxmox-api/ or the path given). Usage: python scripts/proxmox_privileges.py [apidata.json] > table.md
"""

import json
import os
import sys

COMMON = [('GET', '/cluster/resources'), ('GET', '/nodes/{node}/tasks/{upid}/status'),
          ('GET', '/nodes/{node}/tasks/{upid}/log')]
GUEST = [('GET', '/nodes/{node}/{type}/{vmid}/config'), ('GET', '/nodes/{node}/{type}/{vmid}/status/current')]
POWER = [('POST', '/nodes/{node}/{type}/{vmid}/status/start'), ('POST', '/nodes/{node}/{type}/{vmid}/status/stop'),
         ('POST', '/nodes/{node}/{type}/{vmid}/status/shutdown'), ('POST', '/nodes/{node}/{type}/{vmid}/status/reboot')]
CREATE = [('GET', '/cluster/nextid'), ('GET', '/pools'), ('GET', '/nodes/{node}/storage/{storage}/content')]


def guest(kind, extra):
    def sub(calls):
        return [(m, p.replace('{type}', kind)) for m, p in calls]
    return sub(COMMON + GUEST + POWER + CREATE) + [
        ('POST', '/nodes/{node}/%s' % kind), ('PUT', '/nodes/{node}/%s/{vmid}/config' % kind),
        ('PUT', '/nodes/{node}/%s/{vmid}/resize' % kind), ('POST', '/nodes/{node}/%s/{vmid}/clone' % kind),
        ('POST', '/nodes/{node}/%s/{vmid}/template' % kind), ('DELETE', '/nodes/{node}/%s/{vmid}' % kind)] + extra


MODULES = {
    'proxmox_guest_info': COMMON + [(m, p.replace('{type}', t)) for t in ('lxc', 'qemu') for m, p in GUEST],
    'proxmox_lxc': guest('lxc', []),
    'proxmox_vm': guest('qemu', [('POST', '/nodes/{node}/qemu/{vmid}/migrate')]),
    'proxmox_guests': guest('lxc', []) + guest('qemu', []),
    'proxmox_snapshot': COMMON + [(m, p.replace('{type}', t)) for t in ('lxc', 'qemu') for m, p in [
        ('GET', '/nodes/{node}/{type}/{vmid}/snapshot'), ('POST', '/nodes/{node}/{type}/{vmid}/snapshot'),
        ('PUT', '/nodes/{node}/{type}/{vmid}/snapshot/{snapname}/config'),
        ('POST', '/nodes/{node}/{type}/{vmid}/snapshot/{snapname}/rollback'),
        ('DELETE', '/nodes/{node}/{type}/{vmid}/snapshot/{snapname}')]],
    'proxmox_template': COMMON + [
        ('GET', '/nodes/{node}/storage/{storage}/content'), ('GET', '/nodes/{node}/aplinfo'),
        ('POST', '/nodes/{node}/aplinfo'), ('POST', '/nodes/{node}/storage/{storage}/download-url'),
        ('POST', '/nodes/{node}/storage/{storage}/upload'),
        ('DELETE', '/nodes/{node}/storage/{storage}/content/{volume}')],
    'proxmox_devtest_clones': guest('qemu', [
        ('POST', '/nodes/{node}/qemu/{vmid}/snapshot'), ('DELETE', '/nodes/{node}/qemu/{vmid}/snapshot/{snapname}')]),
}


def index(apidata):
    found = {}
    stack = list(apidata)
    while stack:
        node = stack.pop()
        found[node['path']] = node
        stack.extend(node.get('children') or ())
    return found


def describe(permission):
    if not permission:
        return 'not stated'
    if permission.get('user') == 'all' and 'check' not in permission:
        text = 'any authenticated user'
    elif 'check' in permission:
        text = render(permission['check'])
    else:
        text = ''
    if permission.get('description'):
        text = (text + '. ' if text else '') + permission['description']
    return text.replace('|', '\\|').replace('\n', ' ')


def render(check):
    if not isinstance(check, list) or not check:
        return str(check)
    head = check[0]
    if head in ('and', 'or'):
        return '(' + (' %s ' % head).join(render(c) for c in check[1:]) + ')'
    if head == 'perm':
        privs = check[2]
        joiner = ' or ' if 'any' in check[3:] else ' and '
        return '%s on `%s`' % (joiner.join('`%s`' % p for p in privs), check[1])
    if head == 'userid-group':
        return 'user administration rights (%s)' % ', '.join(check[1])
    return ' '.join(str(c) for c in check)


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    path = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, '..', '..', 'shared', 'proxmox-api', 'apidata.json')
    with open(path) as handle:
        api = index(json.load(handle))
    out = []
    for module in sorted(MODULES):
        out.append('### %s\n' % module)
        out.append('| call | privileges (from the API schema) |')
        out.append('|---|---|')
        for method, endpoint in MODULES[module]:
            info = api.get(endpoint, {}).get('info', {}).get(method)
            if info is None:
                raise SystemExit('%s %s is not in the API schema' % (method, endpoint))
            out.append('| `%s %s` | %s |' % (method, endpoint, describe(info.get('permissions'))))
        out.append('')
    sys.stdout.write('\n'.join(out))


if __name__ == '__main__':
    main()
