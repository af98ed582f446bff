"""Property-based bad input for every module: generated from each module's own argument spec.

Every module under plugins/modules/ is found at collection time; its argument spec is captured by
running its ``main()`` with ``AnsibleModule.__init__`` stopped right after it receives the spec. From
the spec, hypothesis draws one wrong thing at a time on top of an otherwise usable baseline:

- core: an unknown key, a missing required option, a wrong type (int, float, bool, dict, list), a value
  outside ``choices`` -- Ansible's own validation must name the option;
- module: an empty string for an identifying option, a negative or out-of-range number, a malformed
  CIDR / address / MAC / volume id / size / image name, a node, storage or pool that does not exist --
  the module's own validation must name the option before it touches anything.

Each input runs the module in-process (``main()`` with the arguments injected the way unit tests do,
SystemExit caught, the JSON read from stdout) against the real engines: the shared dockerd, registry
and libvirtd, and a fakepve per module. Asserted for every input: no traceback, ``failed`` true, the
message names the offending option, and nothing changed on the target (Docker images, containers and
volumes, registry repositories, libvirt pools, volumes and domains whose names carry this run's prefix;
every write request fakepve saw). A table of the inputs tried per module is printed at the end.
"""

from __future__ import annotations

import contextlib
import functools
import glob
import importlib
import io
import json
import os
import re
import secrets
import traceback

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ansible.module_utils import basic
from ansible.module_utils.testing import patch_module_args

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MODULES = sorted(os.path.basename(p)[:-3] for p in glob.glob(os.path.join(ROOT, 'plugins', 'modules', '*.py'))
                 if not os.path.basename(p).startswith('_'))
PACKAGE = 'ansible_collections.virtlab.infra.plugins.modules.'
# every name this file makes carries it, so state comparisons ignore what other suites do meanwhile
PREFIX = 'vlt-test-bi' + secrets.token_hex(2)
EXAMPLES = int(os.environ.get('VIRTLAB_BAD_INPUT_EXAMPLES', '40'))
TRIED: dict[str, dict[str, int]] = {}
# VIRTLAB_BAD_INPUT_COLLECT=1: list every failing input of a module instead of stopping (and shrinking) at the first
COLLECT = os.environ.get('VIRTLAB_BAD_INPUT_COLLECT') == '1'

# ------------------------------------------------------------------------------------ spec capture


class _Captured(Exception):
    pass


def capture_spec(name: str) -> tuple[dict, dict]:
    """(argument_spec, other AnsibleModule keyword arguments) of a module, read from its main()."""
    module = importlib.import_module(PACKAGE + name)
    seen = {}

    def stop(self, argument_spec, **kwargs):  # pylint: disable=unused-argument
        seen.update(spec=argument_spec, kwargs=kwargs)
        raise _Captured()

    original = basic.AnsibleModule.__init__
    basic.AnsibleModule.__init__ = stop
    try:
        with patch_module_args({}):
            module.main()
    except _Captured:
        pass
    finally:
        basic.AnsibleModule.__init__ = original
    if 'spec' not in seen:
        raise AssertionError('%s: main() built no AnsibleModule' % name)
    return seen['spec'], seen['kwargs']


def platform_of(spec: dict) -> str:
    if 'api_host' in spec:
        return 'proxmox'
    if 'docker_host' in spec:
        return 'docker'
    if 'uri' in spec:
        return 'libvirt'
    return 'other'


def invoke(name: str, args: dict) -> dict:
    """Run a module in-process; its result dict, or {'_traceback': ...} when an exception escaped."""
    module = importlib.import_module(PACKAGE + name)
    out = io.StringIO()
    try:
        with patch_module_args(args), contextlib.redirect_stdout(out):
            module.main()
    except SystemExit:
        pass
    except Exception:  # pylint: disable=broad-except  # exactly what this test hunts for
        return {'_traceback': traceback.format_exc(), 'failed': True, 'msg': ''}
    text = out.getvalue()
    try:
        return json.loads(text[text.index('{'):])
    except ValueError:
        return {'_traceback': 'no JSON on stdout: %r' % text, 'failed': True, 'msg': ''}


# ------------------------------------------------------------------------------------ baselines


class Context(object):
    """Valid values of the options that name things which must exist, per platform."""

    def __init__(self, values: dict):
        self.values = values

    def unique(self) -> str:
        return PREFIX + '-' + secrets.token_hex(3)


def baseline_value(option: str, entry: dict, ctx: Context, module: str):
    """A usable value of a required option (or of an option the baseline should carry)."""
    key = module + '.' + option
    if key in ctx.values:
        return ctx.values[key]
    if option in ctx.values:
        return ctx.values[option]
    kind = entry.get('type', 'str')
    if entry.get('choices'):
        return entry.get('default', entry['choices'][0])
    if kind == 'list':
        if entry.get('elements') == 'dict':
            return [baseline_dict(entry.get('options') or {}, ctx, module)]
        return [ctx.unique()]
    if kind == 'dict':
        return baseline_dict(entry.get('options') or {}, ctx, module) if entry.get('options') else {}
    if kind == 'int':
        return 1
    if kind == 'bool':
        return False
    if kind == 'path':
        return os.path.join(ctx.values.get('_tmp', '/tmp'), ctx.unique())
    return ctx.unique()


def baseline_dict(spec: dict, ctx: Context, module: str) -> dict:
    out = {k: baseline_value(k, v, ctx, module) for k, v in spec.items() if v.get('required') or k in ctx.values}
    if 'name' in spec and 'name' not in out:
        out['name'] = ctx.unique()
    return out


def baseline(module: str, spec: dict, kwargs: dict, ctx: Context) -> dict:
    args = dict(ctx.values.get('_connection', {}))
    for option, entry in spec.items():
        if entry.get('required') and option not in args:
            args[option] = baseline_value(option, entry, ctx, module)
    for group in kwargs.get('required_one_of') or ():
        if not any(o in args for o in group):
            # a name rather than an id: an invented id would be refused for being out of range
            pick = [o for o in group if spec[o].get('type', 'str') == 'str'] or list(group)
            args[pick[0]] = baseline_value(pick[0], spec[pick[0]], ctx, module)
    for extra in ctx.values.get('_extra', {}).get(module, {}).items():
        args.setdefault(*extra)
    for rule in kwargs.get('required_if') or ():
        condition, value, needed = rule[:3]
        if args.get(condition, spec.get(condition, {}).get('default')) == value:
            for option in needed:
                args.setdefault(option, baseline_value(option, spec[option], ctx, module))
    return args


# ------------------------------------------------------------------------------------ mutations

WRONG_TYPE = {
    'int': ['eleven', '1.5x', [1, 2], {'a': 1}],
    'float': ['fast', [0.5], {'a': 1}],
    'bool': ['maybe', 'yes please', 2, [True], {'a': 1}],
    'dict': ['not a mapping', 7, ['a', 'b']],
    'list': [{'a': 1}],
}
# option name -> malformed values (the module must validate them)
MALFORMED = {
    'ip': ['not-an-ip', '192.0.2.300/24', '10.0.0.1/33', '2001:db8::zz/64', '192.0.2.10'],
    'ip6': ['2001:db8::zz/64', '192.0.2.10/24', 'fe80::1/129'],
    'gw': ['999.1.1.1', 'gateway', '2001:db8::1'],
    'gw6': ['2001:db8::zz', '192.0.2.1'],
    'hwaddr': ['zz:zz:zz:zz:zz:zz', '00:11:22:33:44', '01:00:5E:00:00:01'],
    'macaddr': ['zz:zz:zz:zz:zz:zz', '00:11:22:33:44', '01:00:5E:00:00:01'],
    'mac': ['zz:zz:zz:zz:zz:zz', '00:11:22:33:44', '01:00:5E:00:00:01'],
    'ostemplate': ['no-colon.tar.zst', ':vztmpl/x.tar.zst', 'local:iso/debian.iso'],
    'size': ['ten gigs', '-5G', '12Q', ''],
    'rootfs_size': ['ten gigs', '-5G', '12Q'],
    'capacity': ['ten gigs', '-5G', '12Q'],
    'memory:str': ['lots', '-1G', '12Q'],
    'nameservers': [['dns.example'], ['300.1.1.1']],
    'hostname': ['bad_host!', '-leading', 'a' * 70],
    'slot': ['scsi99', 'floppy0', 'disk'],
    'docker:name': ['Upper/Case', 'bad name!', 'x:y:z'],
    'docker:tags': [['bad tag!'], ['-leading']],
    'url': ['not a url', 'ftp://example.org/x.tar.zst'],
    'vmid': [0, 99, 1000000000],
    'tag': [0, 4095, 70000],
    'api_port': [0, 70000],
    'mtu': [0, 70000],
}
# options that name something that must exist (a made-up name must be refused naming the option)
MISSING_REF = {
    'proxmox': ['node', 'storage', 'clone', 'pool', 'cloudinit_storage'],
    'libvirt': ['pool', 'source', 'source_pool', 'domain'],
    'docker': ['container'],
}
# options whose empty string must be refused (identifiers)
IDENTIFIERS = {'name', 'hostname', 'snapname', 'node', 'storage', 'pool', 'clone', 'source', 'container', 'domain',
               'path', 'ostemplate', 'bridge', 'slot', 'size', 'api_host', 'filename', 'url'}
# options outside this file's scope: connection targets (a wrong one is a connection error, tested elsewhere)
SKIP = {'api_user', 'api_password', 'api_token_id', 'api_token_secret', 'ca_path', 'validate_certs', 'client_cert',
        'client_key', 'tls', 'api_version', 'docker_config', 'import_from', 'src', 'kernel', 'initrd', 'xml',
        'user_data', 'meta_data', 'network_config', 'description', 'comment', 'author', 'cmdline', 'checksum'}


def mutations(module: str, spec: dict, platform: str) -> list:
    """Every (category, path, value) this module's spec allows; path is a tuple of option names."""
    found = [('unknown key', ('vlt_no_such_option',), 'x')]
    info = module.endswith('_info')

    def walk(entries: dict, path: tuple):
        for option, entry in entries.items():
            if option in SKIP or option.startswith('_'):
                continue
            here = path + (option,)
            kind = entry.get('type', 'str')
            if entry.get('required'):
                found.append(('missing required', here, [_MISSING]))
            # not for a dict with sub-options: ansible-core itself fails there (a TypeError in its
            # set_fallbacks for a number, an unnamed 'dictionary requested' for a string), before any
            # code of ours runs
            if kind in WRONG_TYPE and not (kind == 'dict' and entry.get('options')):
                found.append(('wrong type', here, WRONG_TYPE[kind]))
            if entry.get('choices'):
                found.append(('bad choice', here, ['vlt-bogus', 'PRESENT ', 'none-of-these']))
            if kind == 'int':
                found.append(('out of range', here, [-1, -2 ** 31]))
            # an info module's filters are queries: an empty or unknown value matches nothing, which is an answer
            if info and not entry.get('required'):
                pass
            elif kind in ('str', 'path') and option in IDENTIFIERS and not entry.get('choices'):
                found.append(('empty string', here, ['']))
            for key in (platform + ':' + option, option + ':' + kind, option):
                if key in MALFORMED:
                    found.append(('malformed', here, MALFORMED[key]))
                    break
            if not path and not info and option in MISSING_REF.get(platform, ()):
                found.append(('missing reference', here, [PREFIX + '-missing']))
            if kind in ('list', 'dict') and entry.get('options'):
                walk(entry['options'], here)

    walk(spec, ())
    return found


_MISSING = object()


def apply(args: dict, path: tuple, value, spec: dict, ctx: Context, module: str) -> dict:
    args = json.loads(json.dumps(args))
    if len(path) == 1:
        if value is _MISSING:
            args.pop(path[0], None)
        else:
            args[path[0]] = value
        return args
    parent, leaf = path[0], path[1]
    entry = spec[parent]
    sub = baseline_dict(entry['options'], ctx, module)
    if value is _MISSING:
        sub.pop(leaf, None)
    else:
        sub[leaf] = value
    args[parent] = [sub] if entry.get('type') == 'list' else sub
    return args


def named(message: str, path: tuple) -> bool:
    leaf = path[-1]
    return re.search(r'(?<![A-Za-z0-9_])%s(?![A-Za-z0-9])' % re.escape(leaf), message) is not None


# ------------------------------------------------------------------------------------ target state


def docker_state(client, registry_url, registry_auth):
    """Our images, containers, volumes and registry repositories (one listing call each: other suites
    create and remove things meanwhile, so no per-object look-up that could race with a removal)."""
    import requests
    api = client.api
    images = sorted(t for i in api.images(all=True) for t in i.get('RepoTags') or () if PREFIX in t)
    containers = sorted(n.lstrip('/') for c in api.containers(all=True) for n in c.get('Names') or ()
                        if n.lstrip('/').startswith(PREFIX) and not n.endswith('-fixture'))
    volumes = sorted(v['Name'] for v in api.volumes().get('Volumes') or () if v['Name'].startswith(PREFIX))
    catalog = requests.get(registry_url + '/v2/_catalog', auth=registry_auth, timeout=10).json()
    repos = sorted(r for r in catalog.get('repositories') or [] if PREFIX in r)
    return {'images': images, 'containers': containers, 'volumes': volumes, 'repositories': repos}


def libvirt_state(conn):
    pools = sorted(p.name() for p in conn.listAllStoragePools())
    volumes = []
    for pool in conn.listAllStoragePools():
        if pool.isActive():
            pool.refresh(0)
            volumes += [pool.name() + '/' + v.name() for v in pool.listAllVolumes() if PREFIX in v.name()]
    domains = sorted(d.name() for d in conn.listAllDomains() if d.name().startswith(PREFIX))
    return {'pools': [p for p in pools if p.startswith(PREFIX)], 'volumes': sorted(volumes), 'domains': domains}


def proxmox_state(fakepve):
    writes = [r[:2] for r in fakepve.requests if r[0] != 'GET' and not r[1].endswith('/access/ticket')]
    return {'guests': sorted((g.vmid, g.name) for g in list(fakepve.vms) + list(fakepve.cts)), 'writes': writes}


# ------------------------------------------------------------------------------------ fixtures


@pytest.fixture(scope='module', autouse=True)
def _table(request):
    yield
    reporter = request.config.pluginmanager.getplugin('terminalreporter')
    if reporter is None or not TRIED:
        return
    categories = sorted({c for counts in TRIED.values() for c in counts})
    lines = ['', 'bad inputs tried per module (each failed cleanly, naming the option, target unchanged):',
             '%-24s %6s  ' % ('module', 'total') + '  '.join(categories)]
    for module in sorted(TRIED):
        counts = TRIED[module]
        lines.append('%-24s %6d  ' % (module, sum(counts.values())) + '  '.join(
            '%*d' % (len(c), counts.get(c, 0)) for c in categories))
    lines.append('%-24s %6d' % ('all', sum(sum(c.values()) for c in TRIED.values())))
    capture = request.config.pluginmanager.getplugin('capturemanager')
    with capture.global_and_fixture_disabled() if capture else contextlib.nullcontext():
        for line in lines:
            reporter.write_line(line)


@pytest.fixture(scope='module')
def docker_context(docker_client, debian_image, registry, tmp_path_factory):
    context = tmp_path_factory.mktemp('bad-input-context')
    (context / 'Dockerfile').write_text('FROM %s\nLABEL vlt.test=bad-input\n' % debian_image)
    container = docker_client.containers.create(debian_image, command='true', name=PREFIX + '-fixture')
    archive = tmp_path_factory.mktemp('bad-input-archive') / (PREFIX + '.tar')
    volume = docker_client.volumes.create(PREFIX + '-golden')
    try:
        yield {
            '_connection': {'docker_host': os.environ['DOCKER_HOST']},
            'docker_image_build.path': str(context), 'docker_image_archive.path': str(archive),
            'container': container.name, 'images': [debian_image], 'image': debian_image,
            'golden_volume': volume.name,
            '_extra': {'docker_image_push': {'username': registry.username, 'password': registry.password}},
        }
    finally:
        container.remove(force=True)
        volume.remove(force=True)


@pytest.fixture(scope='module')
def libvirt_context(libvirt_conn, storage_pool, tmp_path_factory):
    base = PREFIX + '-base.qcow2'
    xml = ("<volume><name>%s</name><capacity unit='M'>16</capacity><target><format type='qcow2'/></target>"
           "</volume>" % base)
    volume = storage_pool.createXML(xml, 0)
    domain = libvirt_conn.defineXML(
        "<domain type='qemu'><name>%s-fixture</name><memory unit='MiB'>32</memory><vcpu>1</vcpu>"
        "<os><type arch='x86_64'>hvm</type></os></domain>" % PREFIX)
    try:
        yield {
            '_connection': {'uri': os.environ['LIBVIRT_DEFAULT_URI']},
            'pool': storage_pool.name(),
            'libvirt_volume_clone.source': base, 'libvirt_domain_clone.source': domain.name(),
            'domain': domain.name(), 'golden': base,
            '_extra': {'libvirt_volume': {'capacity': '1M'}, 'libvirt_domain': {'memory': '64M', 'vcpus': 1},
                       'libvirt_pool': {'path': str(tmp_path_factory.mktemp('bad-input-pool'))}},
        }
    finally:
        for snapshot in domain.listAllSnapshots():
            snapshot.delete()
        domain.undefine()
        volume.delete(0)


# ------------------------------------------------------------------------------------ the test


def _cleanup(platform, request):
    """Remove anything a wrongly accepted input made (the assertion has already failed then)."""
    if platform == 'proxmox':
        fakepve = request.getfixturevalue('fakepve')
        fakepve.vms[:] = [g for g in fakepve.vms if g.vmid == 150]
        fakepve.cts[:] = []
    elif platform == 'docker':
        client = request.getfixturevalue('docker_client')
        for image in client.images.list():
            for tag in image.tags:
                if PREFIX in tag:
                    client.images.remove(tag, force=True)
    elif platform == 'libvirt':
        conn = request.getfixturevalue('libvirt_conn')
        for domain in conn.listAllDomains():
            if domain.name().startswith(PREFIX) and not domain.name().endswith('-fixture'):
                if domain.isActive():
                    domain.destroy()
                domain.undefine()
        for pool in conn.listAllStoragePools():
            if pool.isActive():
                for volume in pool.listAllVolumes():
                    if PREFIX in volume.name() and not volume.name().endswith('-base.qcow2'):
                        volume.delete(0)
            if pool.name().startswith(PREFIX):
                if pool.isActive():
                    pool.destroy()
                pool.undefine()


@pytest.mark.parametrize('module', MODULES)
def test_bad_input_fails_cleanly_naming_the_option(module, request):
    spec, kwargs = capture_spec(module)
    platform = platform_of(spec)
    if platform == 'proxmox':
        fakepve = request.getfixturevalue('fakepve')
        pve = {'api_host': fakepve.host, 'api_port': fakepve.port, 'api_token_id': 'root@pam!vltbad',
               'api_token_secret': secrets.token_hex(16), 'ca_path': request.getfixturevalue('fakepve_cafile')}
        fakepve.apitokens[pve['api_token_id']] = pve['api_token_secret']
        fakepve.add_node('pve2')
        fakepve.store_file('local', 'debian-12-standard_12.7-1_amd64.tar.zst', 1024 ** 2, content='vztmpl')
        fakepve.add_vm(150, PREFIX + '-vm')
        values = {'_connection': pve, 'node': 'pve1', 'storage': 'local-lvm', 'bridge': 'vmbr0', 'slot': 'scsi1',
                  'size': '4G', 'proxmox_lxc.path': '/srv/data',
                  '_extra': {'proxmox_lxc': {'ostemplate': 'local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst',
                                             'storage': 'local-lvm'},
                             'proxmox_vm': {'memory': 512},
                             'proxmox_template': {'url': 'https://example.org/vlt.tar.zst'}},
                  'proxmox_snapshot.name': PREFIX + '-vm', 'golden': PREFIX + '-vm', 'proxmox_snapshot.snapname': 'vltbad'}
        state = functools.partial(proxmox_state, fakepve)
    elif platform == 'docker':
        values = request.getfixturevalue('docker_context')
        client = request.getfixturevalue('docker_client')
        reg = request.getfixturevalue('registry')
        state = functools.partial(docker_state, client, reg.url, reg.auth)
    elif platform == 'libvirt':
        values = request.getfixturevalue('libvirt_context')
        conn = request.getfixturevalue('libvirt_conn')
        state = functools.partial(libvirt_state, conn)
    else:
        # modules of the host itself (hardware_*): check mode, so an input wrongly accepted does nothing;
        # bad input must fail in check mode as well
        values = {'_connection': {'_ansible_check_mode': True}, 'scratch': True,
                  '_tmp': str(request.getfixturevalue('tmp_path'))}
        state = dict
    ctx = Context(values)
    base = baseline(module, spec, kwargs, ctx)
    choices = mutations(module, spec, platform)
    counts = TRIED.setdefault(module, {})
    found = []

    def draw_value(data, category, values):
        if category == 'out of range':
            # any negative number, not only the listed ones
            return data.draw(st.one_of(st.sampled_from(values), st.integers(max_value=-1, min_value=-2 ** 31)),
                             label='value')
        return data.draw(st.sampled_from(values), label='value')

    @settings(max_examples=EXAMPLES, derandomize=True, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(data=st.data())
    def generated(data):
        category, path, values = data.draw(st.sampled_from(choices), label='mutation')
        check(category, path, draw_value(data, category, values))

    def check(category, path, value):
        args = apply(base, path, value, spec, ctx, module)
        before = state()
        result = invoke(module, args)
        after = state()
        counts[category] = counts.get(category, 0) + 1
        where = '%s %s=%r (%s)' % (module, '.'.join(path), value if value is not _MISSING else '<missing>',
                                   category)
        if after != before:
            _cleanup(platform, request)
        problems = []
        if '_traceback' in result:
            problems.append('traceback\n' + result['_traceback'])
        elif result.get('failed') is not True:
            problems.append('accepted: %r' % (result,))
        elif not named(result.get('msg', ''), path):
            problems.append('the message does not name %s: %s' % (path[-1], result.get('msg')))
        elif 'Traceback' in json.dumps(result):
            problems.append('traceback in the result: %r' % (result,))
        if after != before:
            problems.append('the target changed: %r -> %r' % (before, after))
        if problems and COLLECT:
            found.append('%s: %s' % (where, '; '.join(problems)))
        else:
            assert not problems, '%s: %s' % (where, '; '.join(problems))

    try:
        # every listed wrong value of every option once, then hypothesis's own picks
        for category, path, values in choices:
            for value in values:
                check(category, path, value)
        generated()  # pylint: disable=no-value-for-parameter
    finally:
        _cleanup(platform, request)
    assert not found, '\n'.join(sorted(set(found)))
    assert sum(counts.values()) >= sum(len(v) for _c, _p, v in choices), counts
