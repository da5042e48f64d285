// Bytes as OPG's messages need them: hex, little-endian integers, concatenation.

/** `0x`-prefixed lower-case hex of `bytes`. */
export function toHex(bytes: Uint8Array): string {
  let out = '0x';
  for (const b of bytes) out += b.toString(16).padStart(2, '0');
  return out;
}

/** The bytes of `0x` hex (an odd length or a non-hex digit is an error). */
export function fromHex(hex: string): Uint8Array {
  const text = hex.startsWith('0x') ? hex.slice(2) : hex;
  if (text.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(text)) throw new Error(`not hex: ${hex.slice(0, 20)}`);
  const out = new Uint8Array(text.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(text.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** Bytes given as bytes, `0x` hex, or a polkadot-api `Binary`/`FixedSizeBinary`. */
export type BytesLike = Uint8Array | string | { asBytes(): Uint8Array };

/** `value` as bytes. */
export function bytes(value: BytesLike): Uint8Array {
  if (value instanceof Uint8Array) return value;
  if (typeof value === 'string') return fromHex(value);
  return value.asBytes();
}

/** `value` as exactly 32 bytes (a hash, a public key, a genesis hash). */
export function hash32(value: BytesLike): Uint8Array {
  const out = bytes(value);
  if (out.length !== 32) throw new Error(`expected 32 bytes, got ${out.length}`);
  return out;
}

/** `value` as `width` little-endian bytes (1, 4, 8 or 16); out of range is an error. */
export function le(value: bigint | number | string, width: number): Uint8Array {
  let v = BigInt(value);
  if (v < 0n || v >= 1n << BigInt(8 * width)) throw new Error(`${value} does not fit ${width} bytes`);
  const out = new Uint8Array(width);
  for (let i = 0; i < width; i++) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return out;
}

/** The little-endian unsigned integer of `data`. */
export function fromLe(data: Uint8Array): bigint {
  let v = 0n;
  for (let i = data.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(data[i]);
  return v;
}

export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

export function equal(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

export const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text);
