// A node's gateway: direct paid calls over HTTP (docs/direct-inference.md), with `fetch`
// (Node ≥ 18 and browsers). The names are the executor's HTTP contract (the Rust crate
// `opg_executor_api`; test/gateway.test.mjs checks them against its source). A call without
// a valid voucher is answered 402 with PAYMENT-REQUIRED (an `Offer`); a call with
// PAYMENT-SIGNATURE (`voucherHeader`) is answered at once with PAYMENT-RESPONSE and the node
// key's evidence (`DirectAnswer`, `LlmAnswer`). No chain here: which channel pays is the
// client's job.
import { type BytesLike, bytes, concat, fromHex, hash32, toHex, utf8 } from './bytes.js';
import * as evidence from './evidence.js';
import * as messages from './messages.js';
import type { Signer } from './signer.js';

// opg_executor_api::path
export const INFER_PATH = '/v1/infer';
export const SERVED_PATH = '/v1/served';
export const CHAT_COMPLETIONS_PATH = '/v1/chat/completions';
export const MODELS_PATH = '/v1/models';
export const HEALTH_PATH = '/health';
// opg_executor_api::header
export const SIGNATURE_HEADER = 'x-opg-signature';
export const NODE_HEADER = 'x-opg-node';
export const MODEL_HASH_HEADER = 'x-opg-model-hash';
export const SEED_HEADER = 'x-opg-seed';
// opg_executor_api::payment
export const REQUIRED_HEADER = 'payment-required';
export const PAYMENT_HEADER = 'payment-signature';
export const RESPONSE_HEADER = 'payment-response';
export const SCHEME = 'opg-channel';
export const X402_VERSION = 2;
/** Every `error` code of a PAYMENT-REQUIRED header (`payment::Refusal::code`). */
export const REFUSALS = [
  'payment_required', 'malformed_voucher', 'wrong_network', 'wrong_signer', 'unknown_channel', 'wrong_payee',
  'channel_closing', 'channel_expired', 'not_above_last', 'below_price', 'above_deposit', 'voucher_reused',
] as const;

/** A payment header's value: base64 (standard, padded) of compact JSON. */
export function encodeHeader(value: unknown): string {
  let binary = '';
  for (const b of utf8(JSON.stringify(value))) binary += String.fromCharCode(b);
  return btoa(binary);
}

/** The JSON object of a payment header's value. */
export function decodeHeader(text: string): Record<string, any> {
  let value: unknown;
  try {
    const binary = atob(text);
    value = JSON.parse(new TextDecoder().decode(Uint8Array.from(binary, (c) => c.charCodeAt(0))));
  } catch (e) {
    throw new Error(`not a base64 JSON payment header: ${(e as Error).message}`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new Error('a payment header holds a JSON object');
  return value as Record<string, any>;
}

/** The public path of a tensor model's calls, which a voucher's call digest names. */
export function inferPath(modelHash: BytesLike): string {
  return `${INFER_PATH}/${toHex(hash32(modelHash))}`;
}

/**
 * The PAYMENT-SIGNATURE value of `signer`'s voucher: `cumulative` (the channel's charged
 * total after this call) on `channel` of chain `genesis`, paying the call of `path` with
 * `body`; the signature is a SCALE `MultiSignature` (0x01: sr25519).
 */
export function voucherHeader(signer: Signer, genesis: BytesLike, channel: bigint, cumulative: bigint, path: string,
  body: Uint8Array): string {
  const message = messages.voucher(genesis, channel, cumulative, messages.callDigest(path, body));
  return encodeHeader({
    x402Version: X402_VERSION,
    scheme: SCHEME,
    network: toHex(hash32(genesis)),
    payload: { channel: channel.toString(), cumulative: cumulative.toString(), signature: toHex(concat(Uint8Array.of(1), signer.sign(message))) },
  });
}

/** What a 402 asks: its `error` code and the `opg-channel` offer. */
export interface Offer {
  error: string;
  network: Uint8Array;
  amount: bigint;
  node: Uint8Array;
  operator?: Uint8Array;
  model?: number;
  modelHash: Uint8Array;
  minIncrement: bigint;
  pricePerToken?: bigint;
}

/** Parses a PAYMENT-REQUIRED value; the error names what is missing. */
export function parseOffer(text: string): Offer {
  const required = decodeHeader(text);
  try {
    const offer = (required.accepts as any[]).find((a) => a?.scheme === SCHEME);
    if (!offer) throw new Error(`no ${SCHEME} offer`);
    const extra = offer.extra;
    return {
      error: String(required.error),
      network: hash32(offer.network),
      amount: BigInt(offer.amount),
      node: hash32(extra.node),
      operator: extra.operator ? hash32(extra.operator) : undefined,
      model: extra.model != null ? Number(extra.model) : undefined,
      modelHash: hash32(extra.modelHash),
      minIncrement: BigInt(extra.minIncrement ?? offer.amount),
      pricePerToken: extra.pricePerToken ? BigInt(extra.pricePerToken) : undefined,
    };
  } catch (e) {
    throw new Error(`not an ${SCHEME} payment offer: ${(e as Error).message}`);
  }
}

/** A gateway answered neither 200 nor a 402 offer: its status and reason. */
export class GatewayError extends Error {
  constructor(readonly status: number, readonly reason: string) {
    super(`gateway answered ${status}: ${reason}`);
    this.name = 'GatewayError';
  }
}

/** A 402: `offer` says what to pay, `offer.error` why this call was refused. */
export class PaymentRequired extends Error {
  constructor(readonly offer: Offer, readonly reason: string) {
    super(`payment required (${offer.error}): ${reason}`);
    this.name = 'PaymentRequired';
  }
}

/** A direct call's answer with its evidence. */
export class DirectAnswer {
  cumulative = 0n;
  charged = 0n;
  channel?: bigint;
  remaining?: bigint;

  constructor(readonly genesis: Uint8Array, readonly modelHash: Uint8Array, readonly path: string,
    readonly body: Uint8Array, public output: Uint8Array, readonly node?: Uint8Array, readonly signature?: Uint8Array) {}

  /** The call's digest: what the voucher and the served-call leaf name. */
  get callDigest(): Uint8Array {
    return messages.callDigest(this.path, this.body);
  }

  /** Whether the evidence is node key `node`'s (by default the one the answer names) over this exact answer. */
  verify(node: BytesLike | undefined = this.node): boolean {
    if (node === undefined || this.signature === undefined) return false;
    return evidence.verifyDirectAnswer({ genesis: this.genesis, modelHash: this.modelHash, path: this.path,
      body: this.body, response: this.output, cumulative: this.cumulative, signature: this.signature, node });
  }
}

/** A language model's answer with its evidence (the `opg` object of the JSON). */
export class LlmAnswer {
  constructor(readonly genesis: Uint8Array, readonly path: string, readonly body: Uint8Array, public text: string,
    readonly seed: bigint | undefined, readonly cumulative: bigint, readonly modelHash: Uint8Array | undefined,
    readonly node: Uint8Array | undefined, readonly signature: Uint8Array | undefined,
    readonly payment: Record<string, any> | undefined, readonly response?: Record<string, any>,
    readonly activations?: Record<string, any>) {}

  static of(genesis: Uint8Array, path: string, body: Uint8Array, text: string, opg: Record<string, any>,
    response?: Record<string, any>): LlmAnswer {
    const optional = (name: string) => {
      try {
        return opg[name] ? bytes(opg[name]) : undefined;
      } catch {
        return undefined;
      }
    };
    return new LlmAnswer(genesis, path, body, text, opg.seed != null ? BigInt(opg.seed) : undefined,
      BigInt(opg.cumulative ?? 0), optional('model_hash'), optional('node'), optional('signature'), opg.payment, response,
      opg.activations ?? undefined);
  }

  /** Whether the evidence is node key `node`'s (by default the one it names) over this request, text, seed and amount. */
  verify(node: BytesLike | undefined = this.node): boolean {
    if (node === undefined || this.signature === undefined || this.modelHash === undefined || this.seed === undefined) return false;
    return evidence.verifyLlmAnswer({ genesis: this.genesis, modelHash: this.modelHash, path: this.path, body: this.body,
      text: this.text, seed: this.seed, cumulative: this.cumulative, signature: this.signature, node });
  }

  /** Whether the answer's activation commitments (`activations`: what a verification node checks it with) are node key `node`'s over this request, text and seed. */
  verifyActivations(node: BytesLike | undefined = this.node): boolean {
    const a = this.activations;
    if (node === undefined || this.modelHash === undefined || this.seed === undefined || !a || typeof a !== 'object') return false;
    try {
      const commitments = (a.commitments ?? []).map((c: string) => Uint8Array.from(atob(c), (ch) => ch.charCodeAt(0)));
      return evidence.verifyLlmActivations({ genesis: this.genesis, modelHash: this.modelHash, path: this.path,
        body: this.body, text: this.text, seed: this.seed, tokens: a.tokens ?? [], commitments,
        signature: a.signature ?? '', node });
    } catch {
      return false;
    }
  }
}

async function reason(response: Response): Promise<string> {
  const text = (await response.text()).trim();
  try {
    const body = JSON.parse(text);
    const error = body?.error;
    if (error && typeof error === 'object') return String(error.message ?? JSON.stringify(error));
    if (error != null) return String(error);
  } catch {
    // not JSON: the text itself
  }
  return text.slice(0, 300) || response.statusText;
}

function hexHeader(response: Response, name: string): Uint8Array | undefined {
  const value = response.headers.get(name);
  if (value === null) return undefined;
  try {
    return fromHex(value);
  } catch {
    return undefined;
  }
}

/** Pays a call: the PAYMENT-SIGNATURE header for `path` and the exact `body` sent. */
export type Pay = (path: string, body: Uint8Array) => string;

/** A node's public listener (`url`, e.g. `http://127.0.0.1:8080`) selling on chain `genesis`. */
export class Gateway {
  readonly url: string;
  readonly genesis: Uint8Array;

  constructor(url: string, genesis: BytesLike, private readonly fetcher: typeof fetch = globalThis.fetch.bind(globalThis)) {
    this.url = url.replace(/\/+$/, '');
    this.genesis = hash32(genesis);
  }

  /** Calls tensor model `modelHash` with `body`, paying with `voucher` if given; the answer, unverified. */
  async infer(modelHash: BytesLike, body: Uint8Array, voucher?: string): Promise<DirectAnswer> {
    const path = inferPath(modelHash);
    const response = await this.fetcher(this.url + path, {
      method: 'POST', body: body as unknown as BodyInit, headers: voucher ? { [PAYMENT_HEADER]: voucher } : {},
    });
    await Gateway.refusal(response);
    const answer = new DirectAnswer(this.genesis, hash32(modelHash), path, body, new Uint8Array(await response.arrayBuffer()),
      hexHeader(response, NODE_HEADER), hexHeader(response, SIGNATURE_HEADER));
    const paid = response.headers.get(RESPONSE_HEADER);
    if (paid !== null) {
      const receipt = decodeHeader(paid);
      answer.cumulative = BigInt(receipt.cumulative);
      answer.charged = BigInt(receipt.charged);
      answer.channel = BigInt(receipt.channel);
      answer.remaining = BigInt(receipt.remaining);
    }
    return answer;
  }

  /** POST /v1/chat/completions of `request` (OpenAI's JSON, not streamed), paid by `pay` if given. */
  async chat(request: Record<string, unknown>, pay?: Pay): Promise<LlmAnswer> {
    const body = utf8(JSON.stringify({ ...request, stream: false }));
    const response = await this.post(CHAT_COMPLETIONS_PATH, body, pay);
    const answer = await response.json();
    const text = answer.choices[0].message.content as string;
    return LlmAnswer.of(this.genesis, CHAT_COMPLETIONS_PATH, body, text, answer.opg ?? {}, answer);
  }

  /**
   * The same streamed: yields the answer's pieces as they come, and returns the whole
   * `LlmAnswer` (with the last chunk's evidence; `undefined` if the stream carried none).
   */
  async *chatStream(request: Record<string, unknown>, pay?: Pay): AsyncGenerator<string, LlmAnswer | undefined> {
    return yield* this.chatStreamOf(CHAT_COMPLETIONS_PATH, utf8(JSON.stringify({ ...request, stream: true })), pay);
  }

  /** `chatStream` of an exact request `body` sent to `path`. */
  async *chatStreamOf(path: string, body: Uint8Array, pay?: Pay): AsyncGenerator<string, LlmAnswer | undefined> {
    const response = await this.post(path, body, pay);
    const pieces: string[] = [];
    let opg: Record<string, any> | undefined;
    for await (const data of sseData(response)) {
      if (data === '[DONE]') break;
      const chunk = JSON.parse(data);
      if (chunk.error) throw new GatewayError(200, String(chunk.error.message ?? JSON.stringify(chunk.error)));
      for (const choice of chunk.choices ?? []) {
        const piece = choice.delta?.content;
        if (piece) {
          pieces.push(piece);
          yield piece;
        }
      }
      if (chunk.opg) opg = chunk.opg;
    }
    return opg ? LlmAnswer.of(this.genesis, path, body, pieces.join(''), opg) : undefined;
  }

  private async post(path: string, body: Uint8Array, pay?: Pay): Promise<Response> {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (pay) headers[PAYMENT_HEADER] = pay(path, body);
    const response = await this.fetcher(this.url + path, { method: 'POST', body: body as unknown as BodyInit, headers });
    await Gateway.refusal(response);
    return response;
  }

  /** Throws `PaymentRequired` on a 402 with an offer, `GatewayError` on any other non-200. */
  static async refusal(response: Response): Promise<void> {
    if (response.status === 402) {
      const header = response.headers.get(REQUIRED_HEADER);
      if (header === null) throw new GatewayError(402, `no ${REQUIRED_HEADER} header: ${await reason(response)}`);
      throw new PaymentRequired(parseOffer(header), await reason(response));
    }
    if (response.status !== 200) throw new GatewayError(response.status, await reason(response));
  }

  /** The served call's leaf and Merkle proof under a settled root (GET /v1/served/0x…), or `undefined`. */
  async served(callDigest: BytesLike): Promise<Record<string, any> | undefined> {
    const response = await this.fetcher(`${this.url}${SERVED_PATH}/${toHex(hash32(callDigest))}`);
    if (response.status === 404) return undefined;
    if (response.status !== 200) throw new GatewayError(response.status, await reason(response));
    return response.json();
  }
}

/** The `data:` payloads of a server-sent event stream. */
async function* sseData(response: Response): AsyncGenerator<string> {
  if (!response.body) return;
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true });
    let end: number;
    while ((end = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, end).replace(/\r$/, '');
      buffer = buffer.slice(end + 1);
      if (line.startsWith('data: ')) yield line.slice(6);
    }
  }
  if (buffer.startsWith('data: ')) yield buffer.slice(6);
}
