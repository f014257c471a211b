// node:crypto loaded on first use, not when a module that may need it is
// loaded: loading it costs a cold process about 14 million instructions
// (OpenSSL's setup), and a node controller's `eucanet apply` never needs it
// (issue 19, the cold path). Only this use is needed outside the stores
// (the DHCP marker's digest is util/fingerprint.ts).
import { createRequire } from 'node:module';

type Crypto = typeof import('node:crypto');
let crypto: Crypto | undefined;
const load = (): Crypto => (crypto ??= createRequire(import.meta.url)('node:crypto') as Crypto);

/** `n` random bytes as hex (crypto.randomBytes). */
export const randomHex = (n: number): string => load().randomBytes(n).toString('hex');
