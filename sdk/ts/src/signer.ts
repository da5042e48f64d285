// Signers: an account's sr25519 key that signs transactions (through polkadot-api) and the
// raw messages OPG verifies (vouchers, a node key's consent to its operator). PAPI's own
// signers cannot sign raw messages (`signBytes` wraps them in `<Bytes>`), hence this type.
import { blake2b } from '@noble/hashes/blake2';
import * as sr25519 from '@scure/sr25519';
import { getPolkadotSigner, type PolkadotSigner } from 'polkadot-api/signer';
import { type BytesLike, bytes, concat, le, utf8 } from './bytes.js';

/** An account key OPG's client signs with. */
export interface Signer {
  /** The account's public key (its AccountId32). */
  publicKey: Uint8Array;
  /** Only sr25519: Substrate's default account key, and the one OPG's nodes use. */
  type: 'Sr25519';
  /** An sr25519 signature (context `substrate`) of exactly `message`. */
  sign(message: Uint8Array): Uint8Array;
}

/**
 * The mini-secret of Substrate's development phrase ("bottom drive obey lake curtain smoke
 * basket hold race lonely fit walk"), from which `//Alice`, `//Bob`… derive.
 */
const DEV_MINI_SECRET = 'fac7959dbfe72f052e5a0c3c8d6530f202b02fd8f9f5ca3580ec8deb7797479e';

/** A signer of an sr25519 secret key (64 bytes, as @scure/sr25519 makes them). */
export function fromSecret(secret: Uint8Array): Signer {
  const publicKey = sr25519.getPublicKey(secret);
  return { publicKey, type: 'Sr25519', sign: (message) => sr25519.sign(secret, message) };
}

/** A signer of a 32-byte seed (a mini-secret, as `opg-executor --node-key` and polkadot.js `addFromSeed` read it). */
export function fromSeed(seed: BytesLike): Signer {
  const raw = bytes(seed);
  if (raw.length !== 32) throw new Error('a seed is 32 bytes');
  return fromSecret(sr25519.secretFromSeed(raw));
}

function chainCode(junction: string): Uint8Array {
  const code = /^\d+$/.test(junction) ? le(BigInt(junction), 8) : scaleString(junction);
  if (code.length > 32) return blake2b(code, { dkLen: 32 });
  return concat(code, new Uint8Array(32 - code.length));
}

function scaleString(text: string): Uint8Array {
  const raw = utf8(text);
  if (raw.length >= 1 << 14) throw new Error('a junction is too long');
  const prefix = raw.length < 64 ? Uint8Array.of(raw.length << 2) : le((raw.length << 2) | 1, 2);
  return concat(prefix, raw);
}

/**
 * A signer of a secret URI: a path (`//Alice`, `//Bob//stash`, `/soft`) under the
 * development phrase, or a 32-byte `0x` seed with an optional path (`0x…//1`). Other
 * mnemonics are out of scope: derive their seed with your wallet and pass it.
 */
export function devSigner(uri: string): Signer {
  const match = /^(0x[0-9a-fA-F]{64})?((?:\/\/?[^/]+)*)$/.exec(uri);
  if (!match) throw new Error(`not a secret URI this SDK derives: ${uri.startsWith('0x') ? 'a 0x seed' : uri.split(' ')[0] + ' …'}`);
  let secret = sr25519.secretFromSeed(bytes(match[1] ?? DEV_MINI_SECRET));
  for (const [, slashes, junction] of match[2].matchAll(/(\/\/?)([^/]+)/g)) {
    secret = slashes === '//' ? sr25519.HDKD.secretHard(secret, chainCode(junction))
      : sr25519.HDKD.secretSoft(secret, chainCode(junction));
  }
  return fromSecret(secret);
}

/** `signer` (or a secret URI) as polkadot-api signs transactions with it. */
export function polkadotSigner(signer: Signer): PolkadotSigner {
  return getPolkadotSigner(signer.publicKey, 'Sr25519', signer.sign);
}
