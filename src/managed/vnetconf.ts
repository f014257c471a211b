// The classic eucalyptus.conf network keys (VNET_*), read into the network
// settings of a desired state. The file is shell-like: KEY="value" lines,
// KEY='value' or KEY=value, "#" comments, an optional "export ". The keys are
// the cluster controller's (VNET_PUBINTERFACE and VNET_PRIVINTERFACE are the CC's NICs).
import { ValidationError } from '../errors.js';
import { ipFamily, maskToPrefix } from '../util/ip.js';
import type { Mode, State } from './types.js';

/** Settings a conf file can give: the network part of a state. */
export type VnetSettings = Partial<Omit<State, 'cc' | 'nodes' | 'groups' | 'instances'>> & {
  cc?: Partial<State['cc']>;
};

export interface VnetConf {
  settings: VnetSettings;
  /** Keys that were read but not used, one readable line each. */
  warnings: string[];
}

interface Entry {
  value: string;
  /** "eucalyptus.conf:12", for warnings. */
  at: string;
  /** "eucalyptus.conf:12 VNET_SUBNET", for errors. */
  field: string;
}

/** VNET_ keys Eucalyptus knew that eucanet has no use for. */
const IGNORED = new Set([
  'VNET_BRIDGE',
  'VNET_DHCPDAEMON',
  'VNET_DHCPUSER',
  'VNET_LOCALIP',
  'VNET_BROADCAST',
  'VNET_ROUTER',
  'VNET_DOMAINNAME',
  'VNET_PRIVATEIPS',
  'VNET_MACMAP',
  'VNET_INSTANCE_DEV',
]);

const LINE = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$/;

/** Splits a line's value part: quoted or bare, then only whitespace or a comment. */
function unquote(raw: string): string | undefined {
  const q = raw[0];
  if (q === '"' || q === "'") {
    const end = raw.indexOf(q, 1);
    if (end < 0) return undefined;
    return /^\s*(#.*)?$/.test(raw.slice(end + 1)) ? raw.slice(1, end) : undefined;
  }
  const m = /^([^\s#"']*)\s*(#.*)?$/.exec(raw);
  return m ? m[1] : undefined;
}

function readLines(text: string, source: string, warnings: string[]): Map<string, Entry> {
  const keys = new Map<string, Entry>();
  text.split(/\r?\n/).forEach((line, i) => {
    const t = line.trim();
    if (t === '' || t.startsWith('#')) return;
    const at = `${source}:${i + 1}`;
    const m = LINE.exec(t);
    const value = m ? unquote(m[2]) : undefined;
    if (!m || value === undefined) throw new ValidationError(at, line, 'expected KEY="value" (a comment may follow)');
    const key = m[1];
    if (!key.startsWith('VNET_')) return;
    if (keys.has(key)) warnings.push(`${at}: ${key} is set again; this later value wins`);
    keys.set(key, { value, at, field: `${at} ${key}` });
  });
  return keys;
}

/** Parses eucalyptus.conf text. `source` names the file in errors and warnings. */
export function parseVnetConf(text: string, source = 'eucalyptus.conf'): VnetConf {
  const warnings: string[] = [];
  const keys = readLines(text, source, warnings);
  const get = (k: string): Entry | undefined => {
    const e = keys.get(k);
    keys.delete(k);
    return e && e.value !== '' ? e : undefined;
  };
  const settings: VnetSettings = {};
  const mode = get('VNET_MODE');
  if (mode) settings.mode = readMode(mode);
  const subnet = readSubnet(get('VNET_SUBNET'), get('VNET_NETMASK'), source);
  if (subnet) settings.subnet = subnet;
  const apn = get('VNET_ADDRSPERNET');
  if (apn) settings.addrsPerNet = readInt(apn);
  const pub = get('VNET_PUBLICIPS');
  if (pub) settings.publicIps = pub.value.split(/\s+/).filter(Boolean);
  const dns = get('VNET_DNS');
  if (dns) settings.dns = readDns(dns);
  const cloud = get('VNET_CLOUDIP');
  if (cloud) settings.metadata = readCloudIp(cloud);
  const mac = get('VNET_MACPREFIX');
  if (mac) settings.macPrefix = mac.value;
  const pubIf = get('VNET_PUBINTERFACE');
  const privIf = get('VNET_PRIVINTERFACE');
  if (pubIf || privIf) {
    settings.cc = {};
    if (pubIf) settings.cc.publicInterface = pubIf.value;
    if (privIf) settings.cc.privateInterface = privIf.value;
  }
  for (const [key, e] of keys) {
    warnings.push(IGNORED.has(key) ? `${e.at}: ${key} is not used by eucanet (ignored)` : `${e.at}: unknown key ${key} (ignored)`);
  }
  return { settings, warnings };
}

function readMode(e: Entry): Mode {
  if (e.value === 'MANAGED' || e.value === 'MANAGED-NOVLAN') return e.value;
  throw new ValidationError(e.field, e.value, 'eucanet implements MANAGED and MANAGED-NOVLAN only');
}

function readSubnet(subnet: Entry | undefined, mask: Entry | undefined, source: string): string | undefined {
  if (!subnet && !mask) return undefined;
  if (!subnet) throw new ValidationError(`${source} VNET_SUBNET`, undefined, 'is required with VNET_NETMASK');
  if (!mask) throw new ValidationError(`${source} VNET_NETMASK`, undefined, 'is required with VNET_SUBNET');
  if (ipFamily(subnet.value) !== 4) throw new ValidationError(subnet.field, subnet.value, 'expected an IPv4 network address like 10.1.0.0');
  return `${subnet.value}/${maskToPrefix(mask.field, mask.value)}`;
}

function readInt(e: Entry): number {
  if (!/^\d{1,6}$/.test(e.value)) throw new ValidationError(e.field, e.value, 'expected a number');
  return Number(e.value);
}

function readDns(e: Entry): string {
  if (ipFamily(e.value) !== 4) throw new ValidationError(e.field, e.value, 'expected one IPv4 address');
  return e.value;
}

function readCloudIp(e: Entry): string {
  if (ipFamily(e.value) !== 4) throw new ValidationError(e.field, e.value, 'expected the IPv4 address of the CLC');
  return `${e.value}:8773`;
}
