// The SDK's words: OPG's units and flags, its errors, and what a check returns.

/** One OPG (18 decimals). */
export const OPG = 10n ** 18n;
/** Verification-mode flags of the model hub and node registry (`opg_primitives::modes`). */
export const MODES = { Vanilla: 0b001, Tee: 0b010, Zkml: 0b100 } as const;
export type Mode = keyof typeof MODES;
/** Role flags of the node registry. */
export const ROLES = { Inference: 0b001, Data: 0b010, Verifier: 0b100 } as const;
/** The runtime's `ChannelMinDeposit` while governance has not set it. */
export const DEFAULT_MIN_DEPOSIT = OPG;
/** Blocks a channel the client opens stays open at least (about 6 hours at 6 s a block). */
export const CHANNEL_BLOCKS = 3600;

/** An extrinsic failed (`error`: `Pallet.Error`) or the chain refused a call. */
export class ChainError extends Error {
  constructor(readonly error: string, readonly detail = '') {
    super(detail ? `${error}: ${detail}` : error);
    this.name = 'ChainError';
  }
}

/** One check of an answer's evidence: its name, whether it held, and why not. */
export interface Check {
  name: string;
  ok: boolean;
  detail: string;
}

/** Every check made of one answer; `ok` only when there was at least one and all held. */
export class Verdict {
  readonly checks: Check[] = [];

  /** Records a check; returns whether it held. */
  add(name: string, ok: boolean, detail = ''): boolean {
    this.checks.push({ name, ok, detail: ok ? '' : detail });
    return ok;
  }

  get ok(): boolean {
    return this.checks.length > 0 && this.checks.every((c) => c.ok);
  }

  get failures(): Check[] {
    return this.checks.filter((c) => !c.ok);
  }

  toString(): string {
    if (this.ok) return `verified: ${this.checks.map((c) => c.name).join(', ')}`;
    if (this.checks.length === 0) return 'not verified: nothing to check';
    return `NOT verified: ${this.failures.map((c) => (c.detail ? `${c.name} failed (${c.detail})` : `${c.name} failed`)).join('; ')}`;
  }
}

/** An answer whose evidence does not hold: `verdict` says which check failed. */
export class EvidenceError extends Error {
  constructor(readonly verdict: Verdict) {
    super(verdict.toString());
    this.name = 'EvidenceError';
  }
}

/** A model of the hub. */
export interface Model {
  id: number;
  name: string;
  version: string;
  format: string;
  hash: Uint8Array;
  size: bigint;
  price: bigint;
  /** Flags of `MODES`. */
  modes: number;
  owner: string;
  /** A float model's published tolerance; absent: its results are judged by their bytes. */
  tolerance?: Tolerance;
}

/**
 * A float model's tolerance: verification nodes accept a result whose every float output
 * element is within `absolute + relative * |theirs|` of their own.
 */
export interface Tolerance {
  absolute: number;
  relative: number;
}

/** The denominator of a tolerance's bounds on chain (billionths). */
export const PPB = 1_000_000_000;

/**
 * A tolerance as the model hub stores it: integer billionths, each bound between 0 and
 * 4.294967295 (a `RangeError` otherwise).
 */
export function toleranceToChain(tolerance: Tolerance): { absolute_ppb: number; relative_ppb: number } {
  const ppb = (name: string, value: number) => {
    const scaled = value * PPB;
    if (!(scaled >= 0 && scaled <= 0xffff_ffff)) {
      throw new RangeError(`a tolerance's ${name} bound is between 0 and 4.294967295, not ${value}`);
    }
    return Math.round(scaled);
  };
  return { absolute_ppb: ppb('absolute', tolerance.absolute), relative_ppb: ppb('relative', tolerance.relative) };
}

/** The stored tolerance as numbers; `undefined` for none. */
export function toleranceFromChain(value?: { absolute_ppb: number; relative_ppb: number }): Tolerance | undefined {
  return value ? { absolute: value.absolute_ppb / PPB, relative: value.relative_ppb / PPB } : undefined;
}

/** A settled on-chain request (`inference_result`) with what the client sent. */
export interface Result {
  id: bigint;
  model?: number;
  mode: Mode;
  node: Uint8Array;
  modelHash: Uint8Array;
  inputHash: Uint8Array;
  output?: Uint8Array;
  outputHash: Uint8Array;
  paid: bigint;
  protocolFee: bigint;
  at: number;
  /** `{ signature }`, `{ batch }`, with `proof` for ZKML, as the RPC returns them. */
  evidence: { signature?: string; batch?: unknown; proof?: string };
  input?: Uint8Array;
}

/** A payment channel as this client tracks it: `spent` is the charged total the last paid answer reported. */
export interface Channel {
  id: bigint;
  node: Uint8Array;
  deposit: bigint;
  spent: bigint;
}
