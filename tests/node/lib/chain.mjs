// A client of an OPG chain as dApps and node operators drive it with plain @polkadot/api:
// publish models, register nodes, request inferences, read settled results with their
// evidence over `inference_*` RPC and check it. Used by the node tests and by
// scripts/inference-demo.mjs (./scripts/dev).
import { stringToHex, u8aConcat, u8aToHex, hexToU8a, u8aToU8a } from '@polkadot/util';
import { decodeAddress, sha256AsU8a, signatureVerify } from '@polkadot/util-crypto';
import { registrationMessage, resultMessage } from './messages.mjs';

export const OPG = 10n ** 18n;
/** The seed of the development inference node's key (`opgn`), inserted into the node's keystore. */
export const DEV_NODE_SEED = '//OpgDevNode';
const MODEL_NAME = 'mnist-mlp-demo';

/**
 * Points the off-chain workers of the node whose RPC is at `rpcUrl` to the executor at
 * `executorUrl` (the node's persistent off-chain storage, `opg::executor-url`).
 */
export const useExecutor = (rpcUrl, executorUrl) => rpc(rpcUrl, 'offchain_localStorageSet', 'PERSISTENT',
  stringToHex('opg::executor-url'), stringToHex(executorUrl));

/** Signs and sends `tx`; resolves with its events once in a block, rejects on a dispatch error. */
export function send(api, tx, signer) {
  return new Promise((resolve, reject) => {
    tx.signAndSend(signer, ({ status, events, dispatchError }) => {
      if (dispatchError) {
        if (dispatchError.isModule) {
          const { section, name } = api.registry.findMetaError(dispatchError.asModule);
          reject(new Error(`${section}.${name}`));
        } else {
          reject(new Error(dispatchError.toString()));
        }
      } else if (status.isInBlock) {
        events.blockHash = status.asInBlock.toHex();
        resolve(events);
      }
    }).catch(reject);
  });
}

export function eventOf(events, event) {
  const found = events.find((record) => event.is(record.event));
  if (!found) throw new Error(`event ${event.meta.name} not emitted`);
  return found.event;
}

/**
 * Calls one of the node's own RPC methods over plain HTTP JSON-RPC at `url` (the node's
 * RPC port): no types bundle, the answers are JSON. Rejects with the RPC error message.
 */
export async function rpc(url, method, ...params) {
  const response = await fetch(url.replace(/^ws/, 'http'), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ id: 1, jsonrpc: '2.0', method, params }),
  });
  const answer = await response.json();
  if (answer.error) throw new Error(`${method}: ${answer.error.message}`);
  return answer.result;
}

/** Verification-mode flags of the model hub and node registry. */
export const MODES = { vanilla: 0b001, tee: 0b010, zkml: 0b100 };

/**
 * Publishes a model as Alice under `name` (or reuses her latest version of that name if
 * it has the same artifact and verifying key); with a `verifyingKey` (bytes) it takes
 * ZKML requests too. A quantized-integer model by default, of I8 vectors of `inputLen`
 * and `outputLen`; or any `format` with its `schema` (and a float model's `tolerance`,
 * `{ absolutePpb, relativePpb }` as the hub stores it). Returns the model id.
 */
export async function publishModel(api, keyring, { name = MODEL_NAME, modelHash, modelSize, inputLen, outputLen,
  format = 'QuantizedInteger', schema = null, price = OPG, tolerance = null,
  verifyingKey = null, modes = verifyingKey ? MODES.vanilla | MODES.zkml : MODES.vanilla | MODES.tee }) {
  const alice = keyring.addFromUri('//Alice');
  const keyHash = verifyingKey ? u8aToHex(sha256AsU8a(verifyingKey)) : null;
  const latest = await api.query.modelHub.latestVersions(alice.address, name);
  if (latest.isSome) {
    const [id] = latest.unwrap();
    // Through JSON: every codec's own `.hash` property is the blake2 hash of its encoding.
    const model = (await api.query.modelHub.models(id)).unwrap().toJSON();
    if (model.spec.artifact.hash === modelHash && model.verifyingKeyHash === keyHash && model.spec.modes === modes
      && BigInt(model.spec.price) === BigInt(price)
      && JSON.stringify(model.spec.tolerance ?? null) === JSON.stringify(tolerance)) {
      return id.toNumber();
    }
  }
  const version = latest.isSome ? latest.unwrap()[1].toJSON() : { major: 1, minor: 0, patch: 0 };
  if (latest.isSome) version.patch += 1;
  const tensor = (length) => ({ shape: [length], dtype: 'I8', quantization: null });
  const spec = {
    name,
    version,
    format,
    artifact: { hash: modelHash, size: modelSize, locator: 'opg-executor artifact store' },
    schema: schema ?? { inputs: [tensor(inputLen)], outputs: [tensor(outputLen)] },
    price,
    modes,
    tolerance,
  };
  const key = verifyingKey ? u8aToHex(verifyingKey) : null;
  const events = await send(api, api.tx.modelHub.publish(spec, key), alice);
  return eventOf(events, api.events.modelHub.ModelPublished).data.model.toNumber();
}

/**
 * Registers `nodeKey` (a keyring pair) as an inference node of Alice's serving `models` in
 * `modes`; if registered, updates its capabilities when they differ, else heartbeats it.
 * Its key is not inserted into any keystore.
 */
export async function registerNode(api, keyring, nodeKey, models, modes, proof = null) {
  const alice = keyring.addFromUri('//Alice');
  const record = await api.query.nodeRegistry.nodes(nodeKey.publicKey);
  const capabilities = {
    models,
    modes,
    hardware: { class: 'Cpu', gpuModel: '', gpuMemoryMib: 0 },
    endpoint: 'http://127.0.0.1:8700',
    jobsPerBlock: 1000,
  };
  if (record.isNone) {
    const message = registrationMessage(api.genesisHash, decodeAddress(alice.address));
    await send(api, api.tx.nodeRegistry.register(nodeKey.publicKey, 0b001, capabilities, 1000n * OPG,
      proof ?? nodeKey.sign(message)), alice);
    return;
  }
  const current = record.unwrap().capabilities.toJSON();
  if (JSON.stringify(current.models) !== JSON.stringify(models) || current.modes !== modes) {
    await send(api, api.tx.nodeRegistry.updateCapabilities(nodeKey.publicKey, capabilities), alice);
  } else {
    await send(api, api.tx.nodeRegistry.heartbeat(nodeKey.publicKey), alice);
  }
}

/**
 * Publishes the model (see publishModel) and registers the development node serving it,
 * in vanilla mode and, with a `verifyingKey`, ZKML; the node's key is inserted into the
 * node's keystore so that its off-chain worker serves it. Returns { modelId, nodeKey }.
 */
export async function setUpServing(api, keyring, model) {
  const nodeKey = keyring.addFromUri(DEV_NODE_SEED);
  await api.rpc.author.insertKey('opgn', DEV_NODE_SEED, u8aToHex(nodeKey.publicKey));
  const modelId = await publishModel(api, keyring, model);
  const modes = model.verifyingKey ? MODES.vanilla | MODES.zkml : MODES.vanilla;
  await registerNode(api, keyring, nodeKey, [modelId], modes);
  return { modelId, nodeKey };
}

/** The message a node signs for the result of request `id`: output and input hashed here. */
export function resultMessageOf(genesisHash, id, modelHash, input, output) {
  return resultMessage(genesisHash, id, hexToU8a(modelHash), sha256AsU8a(input), sha256AsU8a(output));
}

/** Requests an inference from `signer`; resolves with { id, blockHash } once in a block. */
export async function requestInference(api, signer, modelId, input,
  { settlement = 'Individual', window = 20, mode = 'Vanilla', maxFee = 2n * OPG } = {}) {
  const tx = api.tx.inference.request(modelId, { Inline: u8aToHex(input) }, mode, settlement, maxFee, window);
  const events = await send(api, tx, signer);
  const event = eventOf(events, api.events.inference.RequestSubmitted);
  return { id: event.data.request.toNumber(), blockHash: events.blockHash };
}

/** Polls `inference_result` at the node's RPC `url` until request `id` is settled. */
export async function waitForResult(url, id, ms = 120000) {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const result = await rpc(url, 'inference_result', id);
    if (result) return result;
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
  throw new Error(`request ${id} not settled after ${ms} ms`);
}

/** Checks a single result's evidence: the node key's signature over the signed message. */
export function verifyResult(result) {
  return signatureVerify(hexToU8a(result.evidence.message), hexToU8a(result.evidence.signature), hexToU8a(result.node))
    .isValid;
}

/** Checks a batch inclusion proof: leaf → root by the siblings, and the node's signature over the root. */
export function verifyBatchProof(proof) {
  const leafBytes = new Uint8Array(1 + 8 + 32 + 32);
  new DataView(leafBytes.buffer).setBigUint64(1, BigInt(proof.leaf.request), true);
  leafBytes.set(hexToU8a(proof.leaf.inputHash), 9);
  leafBytes.set(hexToU8a(proof.leaf.outputHash), 41);
  let hash = sha256AsU8a(leafBytes);
  let position = proof.index;
  let width = proof.leafCount;
  const siblings = proof.siblings.map((s) => hexToU8a(s));
  while (width > 1) {
    if ((position ^ 1) < width) {
      const sibling = siblings.shift();
      if (!sibling) return false;
      const [left, right] = position % 2 === 0 ? [hash, sibling] : [sibling, hash];
      hash = sha256AsU8a(u8aConcat(u8aToU8a([1]), left, right));
    }
    position = Math.floor(position / 2);
    width = Math.ceil(width / 2);
  }
  return siblings.length === 0 && u8aToHex(hash) === proof.root &&
    signatureVerify(hexToU8a(proof.message), hexToU8a(proof.signature), hexToU8a(proof.node)).isValid;
}

/** A deterministic input of `length` signed bytes. */
export function demoInput(length, seed = 1) {
  return Uint8Array.from({ length }, (_, i) => (i * 31 + seed * 17) % 256);
}
