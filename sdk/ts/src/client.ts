// A client of an OPG chain and its nodes' gateways, on polkadot-api with descriptors
// generated from OPG's runtime metadata (scripts/build.mjs).
//
//   const client = await Client.connect('ws://127.0.0.1:9944', { signer: '//Bob', gateway: 'http://…' });
//   const result = await client.infer(modelId, input, { mode: 'Zkml' });   // on chain, settled, verified
//   const answer = await client.direct(modelId, input);                     // paid by voucher, verified
//   const verdict = await client.verify(answer);                            // every check, named
import { sha256 } from '@noble/hashes/sha2';
import { createClient, type PolkadotClient, type TypedApi } from 'polkadot-api';
import { getWsProvider } from 'polkadot-api/ws';
import { opg } from '../.papi/descriptors/dist/index.js';
import { type BytesLike, bytes, equal, fromHex, fromLe, hash32, toHex, utf8 } from './bytes.js';
import * as evidence from './evidence.js';
import * as gw from './gateway.js';
import * as groth16 from './groth16.js';
import * as messages from './messages.js';
import { devSigner, polkadotSigner, type Signer } from './signer.js';
import {
  CHANNEL_BLOCKS, ChainError, type Channel, DEFAULT_MIN_DEPOSIT, EvidenceError, MODES, type Mode, type Model, OPG,
  ROLES, type Result, type Tolerance, Verdict, toleranceFromChain, toleranceToChain,
} from './types.js';

export type OpgApi = TypedApi<typeof opg>;

export interface ConnectOptions {
  /** The account that signs transactions and vouchers: a `Signer` or a secret URI (`//Bob`, `0x…` seed). */
  signer?: Signer | string;
  /** A node's gateway (`http://host:port`) for direct paid calls. */
  gateway?: string;
  /** A WebSocket class where there is no global one (Node 20: the `ws` package's); found by itself otherwise. */
  WebSocket?: unknown;
}

export interface InferOptions {
  mode?: Mode;
  settlement?: 'Individual' | 'Batched';
  maxFee?: bigint;
  window?: number;
  /** Seconds to wait for settlement (default 180). */
  timeout?: number;
  /** Check the evidence and throw `EvidenceError` if it fails (default true). */
  verify?: boolean;
  /** Told each step. */
  progress?: (text: string) => void;
}

export interface DirectOptions {
  gateway?: string;
  /** A new channel's deposit (default 100 calls at the offered price, at least the chain's minimum). */
  deposit?: bigint;
  verify?: boolean;
}

/** The events of an included extrinsic, as polkadot-api decodes them. */
type Events = Array<{ type: string; value: { type: string; value: any } }>;

const signerOf = (signer: Signer | string | undefined) => (typeof signer === 'string' ? devSigner(signer) : signer);
const text = (value: Uint8Array) => new TextDecoder().decode(value);

/** A connection to an OPG node signing as one account. */
export class Client {
  readonly models = new Models(this);
  readonly channels = new Channels(this);
  readonly nodes = new Nodes(this);
  readonly verification = new Verification(this);
  private readonly gateways = new Map<string, gw.Gateway>();

  private constructor(readonly client: PolkadotClient, readonly api: OpgApi, readonly genesis: Uint8Array,
    readonly signer: Signer | undefined, readonly gatewayUrl: string | undefined, private readonly close: () => void) {}

  /** The same connection signing as `signer` (a `Signer` or a secret URI); `destroy()` on either closes both. */
  withSigner(signer: Signer | string): Client {
    return new Client(this.client, this.api, this.genesis, signerOf(signer), this.gatewayUrl, this.close);
  }

  /** Connects to the node at `url` (`ws://…`). */
  static async connect(url = 'ws://127.0.0.1:9944', options: ConnectOptions = {}): Promise<Client> {
    let websocketClass = options.WebSocket ?? (globalThis as any).WebSocket;
    if (!websocketClass) {
      // Node 20 has no global WebSocket: the optional peer dependency `ws` stands in.
      // (a computed specifier: bundlers for browsers leave it alone, and browsers never reach it)
      const ws = 'ws';
      websocketClass = (await import(ws)).default;
    }
    const { provider, close } = quietlyClosed(getWsProvider(url, { websocketClass } as any));
    const client = createClient(provider);
    const spec = await client.getChainSpecData();
    return new Client(client, client.getTypedApi(opg), hash32(spec.genesisHash), signerOf(options.signer), options.gateway,
      close);
  }

  /**
   * Closes the connection. Requests still in flight are left unanswered rather than
   * failed: polkadot-api 2.2 answers a failed chain-head request by retrying 250 ms later,
   * which after its own `destroy()` throws "Not connected" from a timer, an uncaught
   * exception that ends a Node process.
   */
  destroy(): void {
    this.close();
  }

  /** One of the node's own JSON-RPC methods; `ChainError` with the node's message and code. */
  async rpc<T = any>(method: string, ...params: unknown[]): Promise<T> {
    try {
      return await this.client._request<T>(method, params);
    } catch (e) {
      const error = e as { message?: string; code?: number };
      throw new ChainError(`rpc ${method}`, `${error.message ?? String(e)}${error.code !== undefined ? ` (code ${error.code})` : ''}`);
    }
  }

  /**
   * Signs `tx` (a polkadot-api transaction) and sends it; its events once in a best block,
   * or `ChainError` named after the pallet error (`Channels.DepositTooLow`).
   */
  async submit(tx: { signSubmitAndWatch: (signer: any) => any }, signer?: Signer | string): Promise<Events> {
    const by = signerOf(signer) ?? this.signer;
    if (!by) throw new ChainError('no signer', 'give Client.connect(url, { signer }) to send transactions');
    return new Promise((resolve, reject) => {
      const subscription = tx.signSubmitAndWatch(polkadotSigner(by)).subscribe({
        next: (event: any) => {
          if (event.type !== 'txBestBlocksState' || !event.found) return;
          subscription.unsubscribe();
          if (event.ok) resolve(event.events);
          else reject(dispatchError(event.dispatchError));
        },
        error: (e: Error) => reject(new ChainError('transaction refused', e.message)),
      });
    });
  }

  /** The value of the first `pallet.name` event of `events`. */
  static event(events: Events, pallet: string, name: string): any {
    const found = events.find((e) => e.type === pallet && e.value.type === name);
    if (!found) throw new ChainError('missing event', `${pallet}.${name} was not emitted`);
    return found.value.value;
  }

  async bestNumber(): Promise<number> {
    return this.api.query.System.Number.getValue({ at: 'best' });
  }

  // On-chain inference.

  /**
   * Requests an inference of model `model` on `input`; the request's id. `maxFee` bounds
   * what is held: the price and, for vanilla and TEE results, the verification surcharge
   * ({@link Client.surcharge}); by default exactly that.
   */
  async request(model: number, input: Uint8Array, options: InferOptions = {}): Promise<bigint> {
    const record = await this.models.get(model);
    const due = record.price + await this.surcharge(record.price, options.mode ?? 'Vanilla');
    const events = await this.submit(this.api.tx.Inference.request({
      model, input: { type: 'Inline', value: input } as any, mode: { type: options.mode ?? 'Vanilla', value: undefined } as any,
      settlement: { type: options.settlement ?? 'Individual', value: undefined } as any,
      max_fee: options.maxFee ?? (due > 0n ? due : 1n), window: options.window ?? 20,
    }));
    return BigInt(Client.event(events, 'Inference', 'RequestSubmitted').request);
  }

  /**
   * The verification surcharge a request of `mode` pays on top of `price`: none for ZKML
   * (a proof needs no check), else `verification.parameters().surcharge` parts per
   * billion of the price, rounded down.
   */
  async surcharge(price: bigint, mode: string = 'Vanilla'): Promise<bigint> {
    if (mode === 'Zkml') return 0n;
    const params: any = await this.api.query.Verification.Parameters.getValue({ at: 'best' });
    return (price * BigInt(params.surcharge)) / 1_000_000_000n;
  }

  /** Request `id`'s settled result with its evidence, or `undefined` while it is open. */
  async result(id: bigint, sent: { model?: number; input?: Uint8Array } = {}): Promise<Result | undefined> {
    const value = await this.rpc('inference_result', id.toString());
    return value ? resultFromRpc(value, sent) : undefined;
  }

  /** Requests an inference on chain and waits until it is settled; checks its evidence unless `verify: false`. */
  async infer(model: number, input: Uint8Array, options: InferOptions = {}): Promise<Result> {
    const say = options.progress ?? (() => {});
    const id = await this.request(model, input, options);
    say(`request ${id} in a block; waiting for its node to settle it`);
    const deadline = Date.now() + (options.timeout ?? 180) * 1000;
    let result: Result | undefined;
    while (!(result = await this.result(id, { model, input }))) {
      if (Date.now() > deadline) throw new ChainError('not settled', `request ${id} not settled after ${options.timeout ?? 180} s`);
      await new Promise((r) => setTimeout(r, 1000));
    }
    say(`request ${id} settled in block ${result.at}`);
    if (options.verify ?? true) {
      const verdict = await this.verify(result);
      if (!verdict.ok) throw new EvidenceError(verdict);
    }
    return result;
  }

  // Direct paid calls.

  gateway(url?: string): gw.Gateway {
    const at = url ?? this.gatewayUrl;
    if (!at) throw new ChainError('no gateway', 'give Client.connect(url, { gateway }) or { gateway }');
    let found = this.gateways.get(at);
    if (!found) this.gateways.set(at, (found = new gw.Gateway(at, this.genesis)));
    return found;
  }

  /**
   * Calls `model` (a model hub id, or a model hash) at a node's gateway and returns the
   * answer at once. On a 402 it pays: a voucher on this client's channel to the node the
   * offer names, opened or topped up first if needed. Checks the evidence against the
   * registry unless `verify: false`.
   */
  async direct(model: number | BytesLike, input: Uint8Array, options: DirectOptions = {}): Promise<gw.DirectAnswer> {
    const modelHash = typeof model === 'number' ? (await this.models.get(model)).hash : hash32(model);
    const http = this.gateway(options.gateway);
    let answer: gw.DirectAnswer;
    try {
      answer = await http.infer(modelHash, input);
    } catch (e) {
      if (!(e instanceof gw.PaymentRequired)) throw e;
      answer = await this.pay(http, modelHash, input, e.offer, options.deposit);
    }
    if (options.verify ?? true) {
      const verdict = await this.verify(answer);
      if (!verdict.ok) throw new EvidenceError(verdict);
    }
    return answer;
  }

  private async pay(http: gw.Gateway, modelHash: Uint8Array, input: Uint8Array, offer: gw.Offer,
    deposit?: bigint): Promise<gw.DirectAnswer> {
    const signer = this.requireSigner();
    this.sameNetwork(offer);
    const channel = await this.channels.forNode(offer.node, offer.amount, deposit);
    for (let attempt = 0; ; attempt++) {
      const cumulative = channel.spent + offer.amount;
      if (cumulative > channel.deposit) {
        const more = [deposit ?? 0n, 100n * offer.amount, cumulative - channel.deposit].reduce((a, b) => (a > b ? a : b));
        await this.channels.topUp(channel.id, more);
      }
      const voucher = gw.voucherHeader(signer, this.genesis, channel.id, cumulative, gw.inferPath(modelHash), input);
      try {
        const answer = await http.infer(modelHash, input, voucher);
        channel.spent = answer.cumulative;
        return answer;
      } catch (e) {
        if (attempt === 0 && e instanceof gw.PaymentRequired && ['above_deposit', 'below_price'].includes(e.offer.error)) {
          offer = e.offer;
          continue;
        }
        throw e;
      }
    }
  }

  /**
   * Asks language model `model` (its name at the gateway, or its model hub id) `messages`
   * (OpenAI's chat messages). A priced model's 402 is paid by a voucher authorizing the
   * prompt and `maxTokens` tokens at the offer's price per token (charged what it used).
   */
  async chat(model: number | string, chatMessages: Array<Record<string, unknown>>,
    options: DirectOptions & { maxTokens?: number; params?: Record<string, unknown> } = {}): Promise<gw.LlmAnswer> {
    const request = await this.chatRequest(model, chatMessages, options);
    const http = this.gateway(options.gateway);
    let answer: gw.LlmAnswer;
    try {
      answer = await http.chat(request);
    } catch (e) {
      if (!(e instanceof gw.PaymentRequired)) throw e;
      const { channel, pay } = await this.tokenVoucher(e.offer, Number(request.max_tokens), options.deposit);
      answer = await http.chat(request, pay);
      if (answer.payment) channel.spent = BigInt(answer.payment.cumulative);
    }
    if (options.verify ?? true) {
      const verdict = await this.verify(answer);
      if (!verdict.ok) throw new EvidenceError(verdict);
    }
    return answer;
  }

  /**
   * The same streamed: yields the answer's pieces as they come; when the stream ends, its
   * evidence is checked (unless `verify: false`) and `EvidenceError` thrown if it fails;
   * the generator's return value is the whole answer.
   */
  async *chatStream(model: number | string, chatMessages: Array<Record<string, unknown>>,
    options: DirectOptions & { maxTokens?: number; params?: Record<string, unknown> } = {}): AsyncGenerator<string, gw.LlmAnswer> {
    const request = await this.chatRequest(model, chatMessages, options);
    const http = this.gateway(options.gateway);
    let pay: gw.Pay | undefined;
    let channel: Channel | undefined;
    try {
      // An unpaid first try costs nothing on a free model; a priced one answers 402 before streaming.
      const probe = http.chatStream(request);
      const first = await probe.next();
      const answer = yield* continueStream(first, probe);
      return await this.checked(answer, options.verify);
    } catch (e) {
      if (!(e instanceof gw.PaymentRequired)) throw e;
      ({ channel, pay } = await this.tokenVoucher(e.offer, Number(request.max_tokens), options.deposit));
    }
    const paid = http.chatStream(request, pay);
    const answer = yield* continueStream(await paid.next(), paid);
    if (answer?.payment) channel.spent = BigInt(answer.payment.cumulative);
    return await this.checked(answer, options.verify);
  }

  private async checked(answer: gw.LlmAnswer | undefined, verify = true): Promise<gw.LlmAnswer> {
    if (!answer) {
      const verdict = new Verdict();
      verdict.add('evidence', false, 'the stream ended without its evidence');
      throw new EvidenceError(verdict);
    }
    if (verify) {
      const verdict = await this.verify(answer);
      if (!verdict.ok) throw new EvidenceError(verdict);
    }
    return answer;
  }

  private async chatRequest(model: number | string, chatMessages: Array<Record<string, unknown>>,
    options: { maxTokens?: number; params?: Record<string, unknown> }): Promise<Record<string, unknown>> {
    const name = typeof model === 'number' ? (await this.models.get(model)).name : model;
    return { model: name, messages: chatMessages, max_tokens: options.maxTokens ?? 256, ...(options.params ?? {}) };
  }

  /**
   * A `fetch` for OpenAI clients (`new OpenAI({ baseURL: gateway + '/v1', apiKey: 'opg',
   * fetch: client.openaiFetch() })`, or any code that calls a gateway's
   * `/v1/chat/completions`): a priced model's 402 is paid by a voucher on this client's
   * channel, and an answer — streamed or not — is handed over only once its evidence holds
   * (received whole, checked, then given back as the same bytes); otherwise it throws
   * `EvidenceError`. Other calls pass through `inner` (default: the global `fetch`).
   */
  openaiFetch(options: { deposit?: bigint; fetch?: typeof fetch } = {}): typeof fetch {
    const inner = options.fetch ?? globalThis.fetch.bind(globalThis);
    return (async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
      const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
      const method = (init?.method ?? (typeof input === 'object' && 'method' in input ? input.method : 'GET')).toUpperCase();
      if (method !== 'POST' || !new URL(url).pathname.endsWith(gw.CHAT_COMPLETIONS_PATH)) return inner(input, init);
      const body = typeof init?.body === 'string' ? utf8(init.body)
        : init?.body instanceof Uint8Array ? init.body : utf8(await new Response(init?.body ?? null).text());
      const request = JSON.parse(new TextDecoder().decode(body));
      const headers = new Headers(init?.headers);
      const send = () => inner(url, { ...init, method: 'POST', body: body as unknown as BodyInit, headers });
      let response = await send();
      let channel: Channel | undefined;
      const offered = response.headers.get(gw.REQUIRED_HEADER);
      if (response.status === 402 && offered !== null) {
        const paid = await this.tokenVoucher(gw.parseOffer(offered), Number(request.max_tokens ?? 256), options.deposit);
        channel = paid.channel;
        headers.set(gw.PAYMENT_HEADER, paid.pay(new URL(url).pathname, body));
        response = await send();
      }
      if (response.status !== 200) return response;
      const content = new Uint8Array(await response.arrayBuffer());
      const path = new URL(url).pathname;
      let answer: gw.LlmAnswer | undefined;
      if (request.stream) {
        const replay = new gw.Gateway('http://replay', this.genesis, async () => new Response(content as unknown as BodyInit, { status: 200 }));
        const stream = replay.chatStreamOf(path, body);
        let step;
        while (!(step = await stream.next()).done);
        answer = step.value;
      } else {
        const value = JSON.parse(new TextDecoder().decode(content));
        answer = gw.LlmAnswer.of(this.genesis, path, body, value.choices[0].message.content, value.opg ?? {}, value);
      }
      if (channel && answer?.payment) channel.spent = BigInt(answer.payment.cumulative);
      await this.checked(answer);
      const kept = new Headers(response.headers);
      for (const name of ['content-length', 'content-encoding', 'transfer-encoding']) kept.delete(name);
      return new Response(content as unknown as BodyInit, { status: 200, headers: kept });
    }) as typeof fetch;
  }

  /** For a language model's 402: this client's channel to the node (opened or topped up to cover the call) and the voucher. */
  private async tokenVoucher(offer: gw.Offer, maxTokens: number, deposit?: bigint): Promise<{ channel: Channel; pay: gw.Pay }> {
    const signer = this.requireSigner();
    this.sameNetwork(offer);
    const channel = await this.channels.forNode(offer.node, offer.amount, deposit);
    const cap = offer.amount + (offer.pricePerToken ?? 0n) * BigInt(maxTokens);
    if (channel.spent + cap > channel.deposit) {
      const more = channel.spent + cap - channel.deposit;
      await this.channels.topUp(channel.id, deposit !== undefined && deposit > more ? deposit : more);
    }
    const pay: gw.Pay = (path, body) => gw.voucherHeader(signer, this.genesis, channel.id, channel.spent + cap, path, body);
    return { channel, pay };
  }

  private sameNetwork(offer: gw.Offer): void {
    if (!equal(offer.network, this.genesis)) {
      throw new ChainError('wrong network', `the gateway sells on chain ${toHex(offer.network)}, this client is on ${toHex(this.genesis)}`);
    }
  }

  requireSigner(): Signer {
    if (!this.signer) throw new ChainError('no signer', 'give Client.connect(url, { signer }) to pay or send transactions');
    return this.signer;
  }

  // Evidence.

  /** Every check a client can make of `answer` against the chain's records, each named. */
  async verify(answer: Result | gw.DirectAnswer | gw.LlmAnswer): Promise<Verdict> {
    if (answer instanceof gw.DirectAnswer) return this.verifyDirect(answer);
    if (answer instanceof gw.LlmAnswer) return this.verifyLlm(answer);
    return this.verifyResult(answer);
  }

  private async nodeCheck(verdict: Verdict, node: Uint8Array, mode: Mode, at?: number): Promise<void> {
    const record = await this.nodes.get(node);
    if (!verdict.add('node registered', record !== undefined, `${toHex(node)} is not in the node registry`)) return;
    if (mode === 'Tee') {
      const options = { at: at !== undefined ? await this.blockHash(at) : 'best' };
      const attestation: any = await this.api.query.NodeRegistry.Attestations.getValue(toHex(node) as any, options);
      const held = attestation !== undefined && (at === undefined
        || (Number(attestation.attested_at) <= at && at <= Number(attestation.expires_at)));
      verdict.add('node attested', held, `no attestation of ${toHex(node)} valid at block ${at}`);
    }
  }

  private async blockHash(number: number): Promise<string> {
    const hash = await this.rpc<string | null>('chain_getBlockHash', number);
    if (!hash) throw new ChainError('unknown block', `no block ${number}`);
    return hash;
  }

  private async verifyDirect(answer: gw.DirectAnswer): Promise<Verdict> {
    const verdict = new Verdict();
    const node = answer.node;
    if (!verdict.add('node named', node !== undefined, 'the answer names no node key') || !node) return verdict;
    await this.nodeCheck(verdict, node, 'Vanilla');
    verdict.add('network', equal(answer.genesis, this.genesis), 'the answer is for another chain');
    verdict.add('signature', answer.verify(node), "the node key's signature is not over this call, response and amount");
    return verdict;
  }

  private async verifyLlm(answer: gw.LlmAnswer): Promise<Verdict> {
    const verdict = new Verdict();
    const node = answer.node;
    if (!verdict.add('node named', node !== undefined && answer.signature !== undefined,
      'the answer carries no node key or signature') || !node) return verdict;
    await this.nodeCheck(verdict, node, 'Vanilla');
    const published = answer.modelHash !== undefined
      && (await this.models.list()).some((m) => equal(m.hash, answer.modelHash as Uint8Array));
    verdict.add('model published', published, "the answer's model hash is no model hub model's");
    verdict.add('signature', answer.verify(node),
      "the node key's signature is not over this request, text, seed and amount on this chain");
    return verdict;
  }

  private async verifyResult(result: Result): Promise<Verdict> {
    const verdict = new Verdict();
    if (result.input !== undefined) {
      verdict.add('input', equal(sha256(result.input), result.inputHash), "the settled input hash is not the input's");
    }
    if (result.model !== undefined) {
      const model = await this.models.get(result.model);
      verdict.add('model', equal(model.hash, result.modelHash),
        `settled for model ${toHex(result.modelHash)}, model ${result.model} is ${toHex(model.hash)}`);
    }
    if (result.output !== undefined) {
      verdict.add('output', equal(sha256(result.output), result.outputHash), 'the output is not the settled output hash');
    }
    await this.nodeCheck(verdict, result.node, result.mode, result.at);
    const proof = result.evidence;
    if (proof.signature) {
      verdict.add('signature', evidence.verifyResult({ genesis: this.genesis, request: result.id, modelHash: result.modelHash,
        inputHash: result.inputHash, outputHash: result.outputHash, signature: proof.signature, node: result.node }),
      "the node key's signature is not over this result");
    } else if (proof.batch !== undefined) {
      const batch = await this.rpc('inference_batchProof', result.id.toString());
      const ok = !!batch && equal(hash32(batch.node), result.node) && evidence.verifyBatchInclusion({
        genesis: this.genesis, request: result.id, inputHash: result.inputHash, outputHash: result.outputHash,
        root: batch.root, leafCount: Number(batch.leafCount), index: Number(batch.index), siblings: batch.siblings,
        signature: batch.signature, node: result.node });
      verdict.add('batch inclusion', ok, 'the result is not under its batch\'s root signed by its node');
    } else {
      verdict.add('evidence', false, 'no signature and no batch');
    }
    if (result.mode === 'Zkml') {
      const [ok, why] = await this.checkProof(result);
      verdict.add('proof', ok, why);
    }
    return verdict;
  }

  /** The model whose verifying key checks a ZKML result: the one named, else the only published one of its artifact with a key. */
  private async zkmlModel(result: Result): Promise<[number | undefined, string]> {
    if (result.model !== undefined) return [result.model, ''];
    const candidates: number[] = [];
    for (const model of await this.models.list()) {
      if (equal(model.hash, result.modelHash) && (await this.models.verifyingKey(model.id)) !== undefined) candidates.push(model.id);
    }
    if (candidates.length === 1) return [candidates[0], ''];
    if (candidates.length === 0) return [undefined, 'no published model of this artifact has a verifying key'];
    return [undefined, `models ${candidates.join(', ')} share this artifact: name the model`];
  }

  private async checkProof(result: Result): Promise<[boolean, string]> {
    const proof = result.evidence.proof;
    if (!proof || result.output === undefined) return [false, 'the result carries no proof or no inline output'];
    const [model, why] = await this.zkmlModel(result);
    if (model === undefined) return [false, why];
    const key = await this.models.verifyingKey(model);
    if (!key) return [false, `model ${model} has no verifying key`];
    let inputs: bigint[];
    if (result.input !== undefined) {
      inputs = groth16.statement({ genesis: this.genesis, request: result.id, node: result.node, input: result.input, output: result.output });
    } else {
      const commitment = await this.api.query.Inference.InputCommitments.getValue(result.id, { at: 'best' });
      if (commitment === undefined) return [false, 'the input is unknown (give it) and the chain keeps no commitment to it'];
      inputs = groth16.statement({ genesis: this.genesis, request: result.id, node: result.node,
        commitment: fromLe(bytes(commitment as any)), output: result.output });
    }
    try {
      const ok = groth16.verify(groth16.decodeKey(key), groth16.decodeProof(fromHex(proof)), inputs);
      return [ok, ok ? '' : `the Groth16 proof does not verify under model ${model}'s key for this input, output, request and node`];
    } catch (e) {
      if (e instanceof groth16.DecodeError) return [false, `the proof or key does not decode: ${e.message}`];
      throw e;
    }
  }
}

/** A POST to a node's executor (its node-facing listener): its JSON, or `ChainError` named `failure`. */
async function executorPost(executor: string, path: string, token: string | undefined, failure: string): Promise<any> {
  let response: Response;
  try {
    response = await fetch(executor.replace(/\/+$/, '') + path, { method: 'POST', headers: token ? { authorization: `Bearer ${token}` } : {} });
  } catch (e) {
    throw new ChainError(failure, `${executor}: ${(e as Error).message}`);
  }
  if (response.status !== 200) throw new ChainError(failure, `the executor answered ${response.status}: ${(await response.text()).trim().slice(0, 300)}`);
  return response.json();
}

/** A tensor of a model's schema. */
export interface TensorSpec {
  shape: number[];
  dtype: 'F32' | 'F16' | 'BF16' | 'I8' | 'U8' | 'I16' | 'I32' | 'I64' | 'Bool';
  quantization?: { scaleBits: number; zeroPoint: number };
}

/** What `models.publish` publishes. */
export interface PublishSpec {
  name: string;
  version?: string;
  format?: 'TorchScript' | 'Onnx' | 'QuantizedInteger' | 'Llm';
  artifact: { hash: BytesLike; size: bigint | number; locator?: string };
  schema: { inputs: TensorSpec[]; outputs: TensorSpec[] };
  /** Per call, in plancks (default 1 OPG). */
  price?: bigint;
  /** Flags of `MODES` (default vanilla). */
  modes?: number;
  verifyingKey?: Uint8Array;
  /**
   * A float model's (TorchScript, Onnx) tolerance: verification nodes accept a result
   * within it of their own re-execution; without one they compare bytes, which holds on
   * the node's executor build and CPU kind alone.
   */
  tolerance?: Tolerance;
}

/**
 * A JSON-RPC provider whose `close()` shuts the socket without telling the client above it:
 * its pending requests stay pending instead of failing into polkadot-api's retry timers.
 */
function quietlyClosed(provider: (onMessage: (message: any) => void) => { send: (message: any) => void; disconnect: () => void }) {
  let inner: { send: (message: any) => void; disconnect: () => void } | undefined;
  let closed = false;
  const close = () => {
    if (closed) return;
    closed = true;
    inner?.disconnect();
  };
  const wrapped = (onMessage: (message: any) => void) => {
    inner = provider((message) => {
      if (!closed) onMessage(message);
    });
    return {
      send: (message: any) => {
        if (!closed) inner?.send(message);
      },
      disconnect: close,
    };
  };
  return { provider: wrapped as any, close };
}

function dispatchError(error: any): ChainError {
  if (error?.type === 'Module' && error.value?.type) {
    const pallet = error.value.type;
    const name = error.value.value?.type ?? 'Unknown';
    return new ChainError(`${pallet}.${name}`);
  }
  return new ChainError('dispatch failed', JSON.stringify(error, (_, v) => (typeof v === 'bigint' ? v.toString() : v)));
}

async function* continueStream(first: IteratorResult<string, gw.LlmAnswer | undefined>,
  rest: AsyncGenerator<string, gw.LlmAnswer | undefined>): AsyncGenerator<string, gw.LlmAnswer | undefined> {
  let step = first;
  while (!step.done) {
    yield step.value;
    step = await rest.next();
  }
  return step.value;
}

function resultFromRpc(value: any, sent: { model?: number; input?: Uint8Array }): Result {
  return {
    id: BigInt(value.id), model: sent.model, mode: value.mode, node: hash32(value.node), modelHash: hash32(value.modelHash),
    inputHash: hash32(value.inputHash), output: value.output?.inline !== undefined ? fromHex(value.output.inline) : undefined,
    outputHash: hash32(value.outputHash), paid: BigInt(value.paid), protocolFee: BigInt(value.protocolFee), at: Number(value.at),
    evidence: value.evidence, input: sent.input,
  };
}

/** The model hub. */
export class Models {
  constructor(private readonly client: Client) {}

  private model(id: number, record: any): Model {
    const spec = record.spec;
    const v = spec.version;
    return {
      id, name: text(bytes(spec.name)), version: `${v.major}.${v.minor}.${v.patch}`, format: spec.format.type,
      hash: hash32(spec.artifact.hash), size: BigInt(spec.artifact.size), price: BigInt(spec.price), modes: Number(spec.modes),
      owner: record.owner, tolerance: toleranceFromChain(spec.tolerance),
    };
  }

  /** Model `id`; `ChainError` `ModelHub.UnknownModel` if there is none. */
  async get(id: number): Promise<Model> {
    const record = await this.client.api.query.ModelHub.Models.getValue(id, { at: 'best' });
    if (record === undefined) throw new ChainError('ModelHub.UnknownModel', `no model ${id}`);
    return this.model(id, record);
  }

  /** Every model of the hub, by id. */
  async list(): Promise<Model[]> {
    const entries = await this.client.api.query.ModelHub.Models.getEntries({ at: 'best' });
    return entries.map(({ keyArgs, value }: { keyArgs: [number]; value: unknown }) => this.model(Number(keyArgs[0]), value)).sort((a: Model, b: Model) => a.id - b.id);
  }

  /**
   * Publishes a model whose artifact (`artifact.hash`, `artifact.size` bytes) its nodes
   * hold or will hold (`upload`); the new model's id. A ZKML model needs `verifyingKey`
   * (the Python SDK and `opg model publish` run the setup; it needs the `opg-zk` binary).
   */
  async publish(spec: PublishSpec): Promise<number> {
    const [major, minor, patch] = (spec.version ?? '1.0.0').split('.').map(Number);
    const tensor = (t: TensorSpec) => ({
      shape: t.shape, dtype: { type: t.dtype, value: undefined },
      quantization: t.quantization ? { scale_bits: t.quantization.scaleBits, zero_point: t.quantization.zeroPoint } : undefined,
    });
    const events = await this.client.submit(this.client.api.tx.ModelHub.publish({
      spec: {
        name: utf8(spec.name), version: { major, minor, patch }, format: { type: spec.format ?? 'QuantizedInteger', value: undefined },
        artifact: { hash: toHex(hash32(spec.artifact.hash)), size: BigInt(spec.artifact.size), locator: utf8(spec.artifact.locator ?? 'opg-executor artifact store') },
        schema: { inputs: spec.schema.inputs.map(tensor), outputs: spec.schema.outputs.map(tensor) },
        price: spec.price ?? OPG, modes: spec.modes ?? MODES.Vanilla,
        tolerance: spec.tolerance ? toleranceToChain(spec.tolerance) : undefined,
      } as any,
      verifying_key: spec.verifyingKey,
    }));
    return Number(Client.event(events, 'ModelHub', 'ModelPublished').model);
  }

  /**
   * Puts a model file's bytes into a node's artifact store (`PUT /v1/artifacts/0x{hash}` on
   * its executor's node-facing listener, `token` for one that is not loopback); the
   * executor refuses bytes that are not the hash. Returns the hash and size to publish.
   */
  async upload(data: Uint8Array, executor: string, token?: string): Promise<{ hash: Uint8Array; size: bigint }> {
    const hash = sha256(data);
    const url = `${executor.replace(/\/+$/, '')}/v1/artifacts/${toHex(hash)}`;
    let response: Response;
    try {
      response = await fetch(url, { method: 'PUT', body: data as unknown as BodyInit,
        headers: { 'content-type': 'application/octet-stream', ...(token ? { authorization: `Bearer ${token}` } : {}) } });
    } catch (e) {
      throw new ChainError('upload failed', `${url}: ${(e as Error).message}`);
    }
    if (response.status !== 200 && response.status !== 201) {
      throw new ChainError('upload refused', `${url} answered ${response.status}: ${(await response.text()).trim().slice(0, 300)}`);
    }
    return { hash, size: BigInt(data.length) };
  }

  /** The Groth16 verifying key published with model `id` (arkworks compressed). */
  async verifyingKey(id: number): Promise<Uint8Array | undefined> {
    const key = await this.client.api.query.ModelHub.VerifyingKeys.getValue(id, { at: 'best' });
    return key === undefined ? undefined : bytes(key as any);
  }
}

/** Payment channels from the client's account (pallet `Channels`). */
export class Channels {
  /** This client's channels by node key (hex). */
  readonly open = new Map<string, Channel>();

  constructor(private readonly client: Client) {}

  /** Opens a channel of `deposit` to `node` (its key) for `blocks` blocks. */
  async openTo(node: BytesLike, deposit: bigint, blocks = CHANNEL_BLOCKS): Promise<Channel> {
    const key = hash32(node);
    const expiry = (await this.client.bestNumber()) + blocks;
    const events = await this.client.submit(this.client.api.tx.Channels.open({ node: toHex(key) as any, deposit, expiry }));
    const channel: Channel = { id: BigInt(Client.event(events, 'Channels', 'Opened').channel), node: key, deposit, spent: 0n };
    this.open.set(toHex(key), channel);
    return channel;
  }

  /** This client's channel to `node`, opened with `deposit` (default 100 calls at `price`, at least the chain's minimum). */
  async forNode(node: BytesLike, price: bigint, deposit?: bigint): Promise<Channel> {
    const found = this.open.get(toHex(hash32(node)));
    if (found) return found;
    const least = await this.minDeposit();
    const wanted = deposit ?? 100n * price;
    return this.openTo(node, wanted > least ? wanted : least);
  }

  /** The least a channel opens with: governance parameter `ChannelMinDeposit`. */
  async minDeposit(): Promise<bigint> {
    const value: any = await this.client.api.query.Parameters.Parameters.getValue(
      { type: 'Protocol', value: { type: 'ChannelMinDeposit', value: undefined } } as any, { at: 'best' });
    if (value === undefined) return DEFAULT_MIN_DEPOSIT;
    let found = value;
    while (found && typeof found === 'object' && 'value' in found) found = found.value;
    return typeof found === 'bigint' ? found : DEFAULT_MIN_DEPOSIT;
  }

  async topUp(channel: bigint, amount: bigint): Promise<void> {
    await this.client.submit(this.client.api.tx.Channels.top_up({ channel, amount }));
    for (const tracked of this.open.values()) if (tracked.id === channel) tracked.deposit += amount;
  }

  /** Starts closing `channel`: the block from which `withdraw` refunds. */
  async close(channel: bigint): Promise<number> {
    const events = await this.client.submit(this.client.api.tx.Channels.close({ channel }));
    for (const [key, tracked] of this.open) if (tracked.id === channel) this.open.delete(key);
    return Number(Client.event(events, 'Channels', 'Closing').closes_at);
  }

  /** Refunds what `channel` did not spend, once closed (or expired); the refund. */
  async withdraw(channel: bigint): Promise<bigint> {
    const events = await this.client.submit(this.client.api.tx.Channels.withdraw({ channel }));
    return BigInt(Client.event(events, 'Channels', 'Withdrawn').refund);
  }

  async get(channel: bigint): Promise<any> {
    return this.client.api.query.Channels.OpenChannels.getValue(channel, { at: 'best' });
  }
}

/**
 * Results checked by verification nodes (pallet `Verification`, docs/verification.md): a
 * vanilla or TEE result's payment is held through its challenge window, in which anyone may
 * challenge it by posting the challenge bond.
 */
export class Verification {
  constructor(private readonly client: Client) {}

  /** The game's governance parameters (`challenge_window`, `challenge_bond`, `surcharge`, periods, slashing). */
  async params(): Promise<any> {
    return this.client.api.query.Verification.Parameters.getValue({ at: 'best' });
  }

  /**
   * Request `request`'s payment held in its challenge window (`final_at`: the block it is
   * final at; `disputed` once a case checks it), or `undefined` once released, refunded, or
   * never held (ZKML).
   */
  async held(request: bigint): Promise<any> {
    return this.client.api.query.Inference.HeldPayments.getValue(request, { at: 'best' });
  }

  /**
   * Challenges `request`'s result while it is held, holding the challenge bond until its case
   * ends (returned if the result is overturned, paid to its node if upheld). The `Challenged`
   * event (`case`, `result`, `challenger`, `bond`); its committee is drawn at the next block.
   * `ChainError` `Verification.NotChallengeable` for a result not in its window,
   * `Verification.AlreadyChecked` for one already sampled or challenged.
   */
  async challenge(request: bigint): Promise<any> {
    const events = await this.client.submit(this.client.api.tx.Verification.challenge({ result: request }));
    return Client.event(events, 'Verification', 'Challenged');
  }

  /**
   * The case checking `request`'s result, or `undefined` if neither sampled nor challenged:
   * its id and record (`node`, `challenger`, `game`: phase, round, seats and verdicts), the
   * record `undefined` while a challenge waits for its committee (drawn at the next block).
   */
  async case(request: bigint): Promise<{ id: bigint; record: any } | undefined> {
    const id = await this.client.api.query.Verification.CaseOf.getValue(request, { at: 'best' });
    if (id === undefined) return undefined;
    return { id, record: await this.client.api.query.Verification.Cases.getValue(id, { at: 'best' }) };
  }
}

/** The node registry. */
export class Nodes {
  constructor(private readonly client: Client) {}

  /** Node `node`'s (its key) record, or `undefined` if it is not registered. */
  async get(node: BytesLike): Promise<any> {
    return this.client.api.query.NodeRegistry.Nodes.getValue(toHex(hash32(node)) as any, { at: 'best' });
  }

  async attestation(node: BytesLike): Promise<any> {
    return this.client.api.query.NodeRegistry.Attestations.getValue(toHex(hash32(node)) as any, { at: 'best' });
  }

  /**
   * Registers a node operated by this client's account, `bond` held from it; the node key.
   * The node key consents either here (`nodeKey`, a `Signer`) or, for a TEE node whose key
   * never leaves its executor, by that executor (`executor`: `POST /v1/registration`), which
   * must serve this account.
   */
  async register(a: { nodeKey?: Signer; executor?: string; token?: string; models: number[]; modes: number; bond: bigint;
    roles?: number; endpoint?: string; hardware?: 'Cpu' | 'Gpu'; jobsPerBlock?: number }): Promise<Uint8Array> {
    const operator = this.client.requireSigner().publicKey;
    let node: Uint8Array;
    let signature: Uint8Array;
    if (a.executor) {
      const produced = await executorPost(a.executor, `/v1/registration?genesis=${toHex(this.client.genesis)}`, a.token, 'no registration');
      if (!equal(hash32(produced.operator), operator)) {
        throw new ChainError('wrong operator', `the executor at ${a.executor} serves operator ${produced.operator}, not this signer (${toHex(operator)}): restart it with --operator`);
      }
      node = hash32(produced.node);
      signature = fromHex(produced.signature);
    } else if (a.nodeKey) {
      node = a.nodeKey.publicKey;
      signature = this.registrationProof(a.nodeKey);
    } else {
      throw new ChainError('no node key', 'give nodeKey (a Signer) or executor (a TEE node\'s executor)');
    }
    await this.client.submit(this.client.api.tx.NodeRegistry.register({
      node: toHex(node) as any, roles: a.roles ?? ROLES.Inference, bond: a.bond, signature: toHex(signature) as any,
      capabilities: {
        models: a.models, modes: a.modes, endpoint: utf8(a.endpoint ?? ''), jobs_per_block: a.jobsPerBlock ?? 1000,
        hardware: { class: { type: a.hardware ?? 'Cpu', value: undefined }, gpu_model: new Uint8Array(), gpu_memory_mib: 0 },
      } as any,
    }));
    return node;
  }

  /**
   * Attests operated node `node`: a challenge from the chain, the node's executor's TEE
   * evidence binding its nonce (`POST /v1/attestation`), the submission. The `NodeAttested` event.
   */
  async attest(node: BytesLike, executor: string, token?: string): Promise<any> {
    const key = hash32(node);
    const events = await this.client.submit(this.client.api.tx.NodeRegistry.request_challenge({ node: toHex(key) as any }));
    const nonce = bytes(Client.event(events, 'NodeRegistry', 'ChallengeIssued').nonce);
    const produced = await executorPost(executor,
      `/v1/attestation?genesis=${toHex(this.client.genesis)}&nonce=${toHex(nonce)}`, token, 'no evidence');
    if (produced.node && !equal(hash32(produced.node), key)) {
      throw new ChainError('wrong node', `the executor at ${executor} holds node key ${produced.node}, not ${toHex(key)}`);
    }
    const attested = await this.client.submit(this.client.api.tx.NodeRegistry.submit_attestation({
      node: toHex(key) as any, evidence: { type: 'Nitro', value: { document: fromHex(produced.document) } } as any,
    }));
    return Client.event(attested, 'NodeRegistry', 'NodeAttested');
  }

  /**
   * Starts operated node `node`'s exit: it is assigned nothing new from now on, may still
   * settle what it was assigned, and its bond is released by `withdraw` after the unbonding
   * period. The `NodeUnbonding` event (`until`: the block).
   */
  async unregister(node: BytesLike): Promise<any> {
    const events = await this.client.submit(this.client.api.tx.NodeRegistry.unregister({ node: toHex(hash32(node)) as any }));
    return Client.event(events, 'NodeRegistry', 'NodeUnbonding');
  }

  /** Releases an exited node's bond after its unbonding period and removes it. The `NodeRemoved` event. */
  async withdraw(node: BytesLike): Promise<any> {
    const events = await this.client.submit(this.client.api.tx.NodeRegistry.withdraw_unbonded({ node: toHex(hash32(node)) as any }));
    return Client.event(events, 'NodeRegistry', 'NodeRemoved');
  }

  /** The signature by which node key `nodeKey` consents to be operated by this client's account. */
  registrationProof(nodeKey: Signer): Uint8Array {
    return nodeKey.sign(messages.registration(this.client.genesis, this.client.requireSigner().publicKey));
  }
}

