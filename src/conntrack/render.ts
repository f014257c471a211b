// Entries as the `conntrack` command lines that would delete them (dry runs,
// error messages), in conntrack-tools 1.4 syntax.
import type { CtEntryRef } from './request.js';

export function deleteCommand(e: CtEntryRef): string {
  const t = e.orig;
  const p = e.protocol;
  const parts = ['conntrack -D'];
  if (t.src.includes(':')) parts.push('-f ipv6');
  parts.push(`-p ${p}`, `-s ${t.src}`, `-d ${t.dst}`);
  if (p === 'icmp' || p === 'icmpv6') {
    if (t.icmpType !== undefined) parts.push(`--icmp-type ${t.icmpType}`);
    if (t.icmpCode !== undefined) parts.push(`--icmp-code ${t.icmpCode}`);
    if (t.icmpId !== undefined) parts.push(`--icmp-id ${t.icmpId}`);
  } else {
    if (t.sport !== undefined) parts.push(`--sport ${t.sport}`);
    if (t.dport !== undefined) parts.push(`--dport ${t.dport}`);
  }
  if (e.zone) parts.push(`-w ${e.zone}`);
  return parts.join(' ');
}
