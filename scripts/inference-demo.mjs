// The inference loop on a development chain, as a dApp and a node operator drive it with
// plain @polkadot/api: publish a quantized-integer model, register an inference node whose
// key the node's keystore holds, request an inference, and read the settled result with
// its evidence over `inference_*` RPC. Used by `./scripts/dev` (run directly) and by
// tests/node/inference.test.mjs (imported).
import { u8aConcat, u8aToHex, hexToU8a, stringToU8a, u8aToU8a } from '@polkadot/util';
import { decodeAddress, sha256AsU8a, signatureVerify } from '@polkadot/util-crypto';

export const OPG = 10n ** 18n;
/** The seed of the development inference node's key (`opgn`), inserted into the node's keystore. */
export const DEV_NODE_SEED = '//OpgDevNode';
const MODEL_NAME = 'mnist-mlp-demo';

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
 * and `outputLen`; or any `format` with its `schema`. Returns the model id.
 */
export async function publishModel(api, keyring, { name = MODEL_NAME, modelHash, modelSize, inputLen, outputLen,
  format = 'QuantizedInteger', schema = null,
  verifyingKey = null, modes = verifyingKey ? MODES.vanilla | MODES.zkml : MODES.vanilla | MODES.tee }) {
  const alice = keyring.addFromUri('//Alice');
  const keyHash = verifyingKey ? u8aToHex(sha256AsU8a(verifyingKey)) : null;
  const latest = await api.query.modelHub.latestVersions(alice.address, name);
  if (latest.isSome) {
    const [id] = latest.unwrap();
    // Through JSON: every codec's own `.hash` property is the blake2 hash of its encoding.
    const model = (await api.query.modelHub.models(id)).unwrap().toJSON();
    if (model.spec.artifact.hash === modelHash && model.verifyingKeyHash === keyHash && model.spec.modes === modes) {
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
    price: OPG,
    modes,
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
export async function registerNode(api, keyring, nodeKey, models, modes) {
  const alice = keyring.addFromUri('//Alice');
  const record = await api.query.nodeRegistry.nodes(nodeKey.publicKey);
  const capabilities = {
    models,
    modes,
    hardware: { class: 'Cpu', gpuModel: '', gpuMemoryMib: 0 },
    endpoint: 'http://127.0.0.1:8700',
  };
  if (record.isNone) {
    const message = u8aConcat(stringToU8a('opg/node-registration/v1'), api.genesisHash, decodeAddress(alice.address));
    await send(api, api.tx.nodeRegistry.register(nodeKey.publicKey, 0b001, capabilities, 1000n * OPG,
      nodeKey.sign(message)), alice);
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

/** The message a node signs for a result (opg_settlement::message::result). */
export function resultMessage(genesisHash, id, modelHash, input, output) {
  const request = new Uint8Array(8);
  new DataView(request.buffer).setBigUint64(0, BigInt(id), true);
  return u8aConcat(stringToU8a('opg/inference-result/v1'), genesisHash, request, hexToU8a(modelHash),
    sha256AsU8a(input), sha256AsU8a(output));
}

/** Requests an inference from `signer`; resolves with { id, blockHash } once in a block. */
export async function requestInference(api, signer, modelId, input,
  { settlement = 'Individual', window = 20, mode = 'Vanilla' } = {}) {
  const tx = api.tx.inference.request(modelId, { Inline: u8aToHex(input) }, mode, settlement, OPG, window);
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

// Run directly by ./scripts/dev: OPG_WS, OPG_MODEL_HASH, OPG_MODEL_SIZE and
// OPG_VERIFYING_KEY (0x-hex, the model's Groth16 key) in the environment; with
// OPG_TORCH_HASH and OPG_TORCH_SIZE, a TorchScript model too.
if (import.meta.url === `file://${process.argv[1]}`) {
  const { ApiPromise, WsProvider } = await import('@polkadot/api');
  const { Keyring } = await import('@polkadot/keyring');
  const { cryptoWaitReady } = await import('@polkadot/util-crypto');
  await cryptoWaitReady();
  const api = await ApiPromise.create({ provider: new WsProvider(process.env.OPG_WS), noInitWarn: true });
  const keyring = new Keyring({ type: 'sr25519', ss58Format: 42 });
  const say = (line) => console.error(`[demo] ${line}`);
  try {
    const { modelId, nodeKey } = await setUpServing(api, keyring, {
      modelHash: process.env.OPG_MODEL_HASH, modelSize: Number(process.env.OPG_MODEL_SIZE), inputLen: 784, outputLen: 10,
      verifyingKey: hexToU8a(process.env.OPG_VERIFYING_KEY),
    });
    say(`model ${modelId} (${process.env.OPG_MODEL_HASH}) served by node ${u8aToHex(nodeKey.publicKey)}`);
    const { id } = await requestInference(api, keyring.addFromUri('//Bob'), modelId, demoInput(784));
    say(`Bob requested inference ${id}; waiting for the off-chain worker and the executor...`);
    const result = await waitForResult(process.env.OPG_WS, id);
    say(`settled in block ${result.at}: output ${result.output.inline}, node paid ${BigInt(result.paid) * 1000n / OPG} mOPG, ` +
      `signature ${verifyResult(result) ? 'verified' : 'INVALID'}`);
    const zk = await requestInference(api, keyring.addFromUri('//Bob'), modelId, demoInput(784, 2), { mode: 'Zkml' });
    say(`Bob requested ZKML inference ${zk.id}; the executor proves it (Groth16, BN254)...`);
    const proven = await waitForResult(process.env.OPG_WS, zk.id);
    say(`settled in block ${proven.at}: output ${proven.output.inline}, ` +
      `proof ${(proven.evidence.proof.length - 2) / 2} bytes verified by the runtime`);
    if (process.env.OPG_TORCH_HASH) {
      // A TorchScript model (float32 16 → 4), run by the executor on libtorch.
      const tensor = (shape) => ({ shape, dtype: 'F32', quantization: null });
      const torchId = await publishModel(api, keyring, {
        name: 'torch-mlp-demo', modelHash: process.env.OPG_TORCH_HASH, modelSize: Number(process.env.OPG_TORCH_SIZE),
        format: 'TorchScript', schema: { inputs: [tensor([1, 16])], outputs: [tensor([1, 4])] }, modes: MODES.vanilla,
      });
      await registerNode(api, keyring, nodeKey, [modelId, torchId], MODES.vanilla | MODES.zkml);
      const input = new Uint8Array(new Float32Array(16).map((_, i) => Math.sin(i)).buffer);
      const torch = await requestInference(api, keyring.addFromUri('//Bob'), torchId, input);
      say(`Bob requested inference ${torch.id} of TorchScript model ${torchId}; the executor runs it on libtorch...`);
      const ran = await waitForResult(process.env.OPG_WS, torch.id);
      const probabilities = Array.from(new Float32Array(hexToU8a(ran.output.inline).buffer), (p) => p.toFixed(4));
      say(`settled in block ${ran.at}: output [${probabilities.join(', ')}], ` +
        `signature ${verifyResult(ran) ? 'verified' : 'INVALID'}`);
    }
    say(`try it: polkadot.js apps → Developer → Extrinsics → inference.request(model ${modelId}, ...)`);
    // Keep the development node live in the registry while the chain runs.
    for (;;) {
      await new Promise((resolve) => setTimeout(resolve, 5 * 60 * 1000));
      await send(api, api.tx.nodeRegistry.heartbeat(nodeKey.publicKey), keyring.addFromUri('//Alice'));
    }
  } catch (e) {
    say(`inference demo failed: ${e.message}`);
    process.exitCode = 1;
  } finally {
    await api.disconnect();
  }
}
