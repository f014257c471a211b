// log: log the packet to syslog (level) or to an nflog group.
//
//   NFTA_EXPR_NAME "log"
//   NFTA_EXPR_DATA {
//     NFTA_LOG_GROUP       be16   nflog group              (nflog form)
//     NFTA_LOG_PREFIX      string
//     NFTA_LOG_SNAPLEN     be32   (nflog form)
//     NFTA_LOG_QTHRESHOLD  be16   (nflog form)
//     NFTA_LOG_LEVEL       be32   enum nft_log_level        (syslog form; default 4, warn)
//     NFTA_LOG_FLAGS       be32   NF_LOG_* (tcp sequence, options, ip options, uid, macdecode)
//   }
// Attributes go in number order, as nft writes them. nft sends LEVEL only when one is given; the kernel reports the default
// level 4, which decode leaves out again.
import { NFTA_LOG_FLAGS, NFTA_LOG_GROUP, NFTA_LOG_LEVEL, NFTA_LOG_PREFIX, NFTA_LOG_QTHRESHOLD, NFTA_LOG_SNAPLEN, NFT_LOGLEVEL_WARNING } from './constants.js';
import type { LogExpr, LogLevel } from '../../types.js';
import { indexOf, nameOf, type ExprCodec } from './codec.js';

/** enum nft_log_level, by nft's names. */
export const LOG_LEVELS: readonly LogLevel[] = ['emerg', 'alert', 'crit', 'err', 'warn', 'notice', 'info', 'debug', 'audit'];

export const log: ExprCodec<LogExpr> = {
  name: 'log',
  attrs: ['NFTA_LOG_UNSPEC', 'NFTA_LOG_GROUP', 'NFTA_LOG_PREFIX', 'NFTA_LOG_SNAPLEN', 'NFTA_LOG_QTHRESHOLD', 'NFTA_LOG_LEVEL', 'NFTA_LOG_FLAGS'],
  encode(w, e) {
    if (e.group !== undefined) w.u16be(NFTA_LOG_GROUP, e.group);
    if (e.prefix !== undefined) w.str(NFTA_LOG_PREFIX, e.prefix);
    if (e.snaplen !== undefined) w.u32be(NFTA_LOG_SNAPLEN, e.snaplen);
    if (e.qthreshold !== undefined) w.u16be(NFTA_LOG_QTHRESHOLD, e.qthreshold);
    if (e.level !== undefined) w.u32be(NFTA_LOG_LEVEL, indexOf(LOG_LEVELS, e.level, 'log level'));
    if (e.flags !== undefined) w.u32be(NFTA_LOG_FLAGS, e.flags);
  },
  decode(a) {
    const e: LogExpr = { kind: 'log' };
    const prefix = a.str(NFTA_LOG_PREFIX);
    const group = a.u16be(NFTA_LOG_GROUP);
    const snaplen = a.u32be(NFTA_LOG_SNAPLEN);
    const qthreshold = a.u16be(NFTA_LOG_QTHRESHOLD);
    const level = a.u32be(NFTA_LOG_LEVEL);
    const flags = a.u32be(NFTA_LOG_FLAGS);
    if (prefix !== undefined) e.prefix = prefix;
    if (group !== undefined) e.group = group;
    if (snaplen) e.snaplen = snaplen;
    if (qthreshold) e.qthreshold = qthreshold;
    if (level !== undefined && level !== NFT_LOGLEVEL_WARNING) e.level = nameOf(LOG_LEVELS, level, 'log level');
    if (flags) e.flags = flags;
    return e;
  },
};
