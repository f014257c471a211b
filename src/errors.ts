// Every error eucanet throws on purpose, in one place: input refused before
// the kernel is touched (ValidationError), a kernel refusal (NetlinkError), a
// reply that does not decode (DecodeError), an exchange that failed part-way
// (ExchangeError), a failed commit and what its rollback did
// (TransactionError); and the predicates over them (isExists(err)...).
import { errnoCode, permissionHint } from './native.js';

export interface NetlinkErrorDetails {
  /** What was being done: "link add eucabr10 (bridge)". */
  op: string;
  /** Index of the op in its batch or transaction, when there is one. */
  opIndex?: number;
  /** The kernel's extended-ACK message. */
  extack?: string;
  /** The attribute the kernel pointed at, as a readable path ("IFLA_LINKINFO/IFLA_INFO_DATA/IFLA_VLAN_ID"). */
  attribute?: string;
  /** Byte offset of that attribute in the request, as the kernel reported it. */
  attributeOffset?: number;
  /** An attribute the kernel said was missing. */
  missingAttribute?: string;
}

/** The kernel refused a netlink request. */
export class NetlinkError extends Error {
  readonly errno: number;
  readonly code: string;
  readonly op: string;
  readonly opIndex?: number;
  readonly extack?: string;
  readonly attribute?: string;
  readonly attributeOffset?: number;
  readonly missingAttribute?: string;

  constructor(errno: number, details: NetlinkErrorDetails) {
    const code = errnoCode(errno);
    const parts = [`${details.opIndex !== undefined ? `op #${details.opIndex} ` : ''}${details.op}: ${code}`];
    // A permission error says what is missing ("needs root or CAP_NET_ADMIN").
    const hint = permissionHint(errno, 'netlink');
    if (hint) parts.push(`${code === 'EPERM' ? 'operation not permitted' : 'permission denied'} (${hint})`);
    if (details.extack) parts.push(details.extack);
    if (details.attribute) parts.push(`at ${details.attribute}`);
    if (details.missingAttribute) parts.push(`missing ${details.missingAttribute}`);
    super(parts.join(': '));
    this.name = 'NetlinkError';
    this.errno = errno;
    this.code = code;
    this.op = details.op;
    if (details.opIndex !== undefined) this.opIndex = details.opIndex;
    if (details.extack !== undefined) this.extack = details.extack;
    if (details.attribute !== undefined) this.attribute = details.attribute;
    if (details.attributeOffset !== undefined) this.attributeOffset = details.attributeOffset;
    if (details.missingAttribute !== undefined) this.missingAttribute = details.missingAttribute;
  }
}

/** Input refused before anything was sent. Names the field and the value. */
export class ValidationError extends Error {
  readonly code = 'EINVAL';
  /** The operation the input was for ("link add br0"), once a caller has said. */
  op?: string;
  constructor(
    readonly field: string,
    readonly value: unknown,
    readonly reason: string,
  ) {
    super(`invalid ${field} ${show(value)}: ${reason}`);
    this.name = 'ValidationError';
  }
  /** Names the operation in `op` and at the front of the message (once); returns this. */
  inOp(op: string): this {
    if (this.op === undefined) {
      this.op = op;
      this.message = `${op}: ${this.message}`;
    }
    return this;
  }
}

/**
 * A kernel reply (or anything read from a netlink socket) that does not have
 * the shape its decoder needs: a length that runs past its buffer, a message
 * shorter than its family header, an attribute shorter than its value, a
 * number or name the decoder has no meaning for. Every decoder throws this,
 * and only this, for malformed input.
 */
export class DecodeError extends Error {
  /** errno's name for "bad message", for code that switches on `code`. */
  readonly code = 'EBADMSG';
  constructor(
    /** What was being decoded: "netlink message", "RTM_NEWLINK", "NFT_MSG_NEWRULE attribute". */
    readonly what: string,
    /** Byte offset in the reply buffer where the problem is. */
    readonly offset: number,
    readonly reason: string,
  ) {
    super(`malformed ${what} at byte ${offset}: ${reason}`);
    this.name = 'DecodeError';
  }
}

/** JSON for the message, falling back to String() where JSON has no form (bigint, undefined). */
function show(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

function codeOf(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null ? (err as { code?: string }).code : undefined;
}

export const isExists = (err: unknown): boolean => codeOf(err) === 'EEXIST';
export const isNotFound = (err: unknown): boolean => ['ENOENT', 'ENODEV', 'ESRCH', 'EADDRNOTAVAIL', 'ENXIO'].includes(codeOf(err) ?? '');
export const isBusy = (err: unknown): boolean => codeOf(err) === 'EBUSY';
export const isPermission = (err: unknown): boolean => ['EPERM', 'EACCES'].includes(codeOf(err) ?? '');
export const isInvalid = (err: unknown): boolean => codeOf(err) === 'EINVAL' || err instanceof ValidationError;
export const isNotSupported = (err: unknown): boolean => ['EOPNOTSUPP', 'ENOTSUP', 'EPROTONOSUPPORT', 'EAFNOSUPPORT'].includes(codeOf(err) ?? '');
export const isDecodeError = (err: unknown): err is DecodeError => err instanceof DecodeError;
/** The nftables ruleset changed under a batch that carried a generation id. */
export const isGenerationMismatch = (err: unknown): boolean => codeOf(err) === 'ERESTART';

/** The same kernel error, re-attributed to op `opIndex` of a larger batch or transaction. */
export function atOp(err: NetlinkError, opIndex: number): NetlinkError {
  const d: NetlinkErrorDetails = { op: err.op, opIndex };
  if (err.extack !== undefined) d.extack = err.extack;
  if (err.attribute !== undefined) d.attribute = err.attribute;
  if (err.attributeOffset !== undefined) d.attributeOffset = err.attributeOffset;
  if (err.missingAttribute !== undefined) d.missingAttribute = err.missingAttribute;
  return new NetlinkError(err.errno, d);
}

/** What a failed exchange knows about one request: the kernel's answer, or why there is none. */
export interface ExchangeReply {
  error?: NetlinkError;
}

/**
 * run() failed part-way (a later chunk's sendto, ENOBUFS, a timeout). `replies`
 * has one entry per request: the kernel's answer where it arrived; for the
 * others an error saying why there is none. `unknown` lists the requests the
 * kernel was given but whose answer was lost (applied or not: nobody knows);
 * `unsent` those it never saw (not applied).
 */
export class ExchangeError<R = ExchangeReply> extends Error {
  readonly errno: number;
  readonly code: string;
  constructor(
    override readonly cause: Error & { errno: number; code: string },
    readonly replies: R[],
    readonly unknown: number[],
    readonly unsent: number[],
  ) {
    const answered = replies.length - unknown.length - unsent.length;
    super(`${cause.message}; ${answered} of ${replies.length} requests answered, ${unknown.length} with an unknown outcome, ${unsent.length} not sent`);
    this.name = 'ExchangeError';
    this.errno = cause.errno;
    this.code = cause.code;
    if (cause.stack) this.stack = `${this.name}: ${this.message}\n${cause.stack.split('\n').slice(1).join('\n')}`;
  }
}

/** What a rollback did: written by the transaction's journal, carried by TransactionError. */
export interface RollbackReport {
  /** Inverse steps that ran. */
  undone: number;
  /** What is left behind: one line per applied op whose inverse failed. */
  leftBehind: string[];
  /** What may or may not have been applied: one line per request whose outcome is unknown. */
  unknown: string[];
  errors: Error[];
}

export class TransactionError extends Error {
  /** Index of the failed op in the transaction, when one op is to blame. */
  readonly opIndex?: number;
  /** The kernel's (or the addon's) error for that op. */
  override readonly cause: Error;
  /** True when every applied op was undone: the system is as it was. */
  readonly rolledBack: boolean;
  /** One line per applied op that could not be undone. Empty when rolledBack. */
  readonly leftBehind: string[];
  /** One line per request the kernel was given whose outcome is unknown (its answer was lost). Empty when rolledBack. */
  readonly unknown: string[];
  readonly rollbackErrors: Error[];
  readonly code: string;

  constructor(cause: Error, opIndex: number | undefined, report: RollbackReport) {
    const rolledBack = report.leftBehind.length === 0 && report.unknown.length === 0;
    const parts: string[] = [];
    if (report.leftBehind.length) parts.push(`left behind:\n  ${report.leftBehind.join('\n  ')}`);
    if (report.unknown.length) parts.push(`outcome unknown:\n  ${report.unknown.join('\n  ')}`);
    const state = rolledBack
      ? `rolled back (${report.undone} applied op${report.undone === 1 ? '' : 's'} undone); the system is as it was`
      : `ROLLBACK INCOMPLETE (${report.undone} undone), ${parts.join('\n')}`;
    super(`transaction failed: ${cause.message}; ${state}`);
    this.name = 'TransactionError';
    this.cause = cause;
    if (opIndex !== undefined) this.opIndex = opIndex;
    this.rolledBack = rolledBack;
    this.leftBehind = report.leftBehind;
    this.unknown = report.unknown;
    this.rollbackErrors = report.errors;
    this.code = (cause as { code?: string }).code ?? 'EFAIL';
  }
}
