// The inference loop on a development chain, as a dApp and a node operator drive it with
// plain @polkadot/api (through tests/node/lib/chain.mjs): publish a quantized-integer
// model, register an inference node whose key the node's keystore holds, request an
// inference, and read the settled result with its evidence over `inference_*` RPC. Run by
// `./scripts/dev`.
import { u8aToHex, hexToU8a } from '@polkadot/util';
import {
  MODES, OPG, demoInput, publishModel, registerNode, requestInference, setUpServing, verifyResult, waitForResult,
} from '../tests/node/lib/chain.mjs';

/**
 * One direct paid call (docs/direct-inference.md): registers the direct executor's node
 * key (its seed in OPG_DIRECT_KEY_FILE) for `modelId`, tells ./scripts/dev to start the
 * gateway (OPG_DIRECT_READY), opens a channel from Bob, and calls OPG_DIRECT_URL without
 * and with a voucher.
 */
async function directCall(api, keyring, modelId, say) {
  const { readFileSync, writeFileSync } = await import('node:fs');
  const { fromBase64Json, inferPath, openChannel, verifyAnswer, voucherHeader } = await import(
    '../tests/node/lib/direct.mjs');
  const { HEADERS } = await import('../tests/node/lib/executor.mjs');
  const seed = hexToU8a(`0x${readFileSync(process.env.OPG_DIRECT_KEY_FILE, 'utf8').trim()}`);
  const nodeKey = keyring.addFromSeed(seed);
  await registerNode(api, keyring, nodeKey, [modelId], MODES.vanilla);
  writeFileSync(process.env.OPG_DIRECT_READY, String(modelId));
  const url = `${process.env.OPG_DIRECT_URL}${inferPath(process.env.OPG_MODEL_HASH)}`;
  const body = demoInput(784, 3);
  let refused = null;
  for (let i = 0; i < 120 && !refused; i += 1) {
    refused = await fetch(url, { method: 'POST', body }).catch(() => null);
    if (!refused) await new Promise((resolve) => setTimeout(resolve, 500));
  }
  if (!refused) throw new Error(`no gateway at ${process.env.OPG_DIRECT_URL}`);
  const required = fromBase64Json(refused.headers.get(HEADERS.paymentRequired));
  say(`direct call without payment: ${refused.status}, ${required.error}, price ${required.accepts[0].amount}`);
  const bob = keyring.addFromUri('//Bob');
  const channel = await openChannel(api, bob, nodeKey.publicKey, 10n * OPG);
  const voucher = voucherHeader(api, bob, api.genesisHash, channel, OPG, inferPath(process.env.OPG_MODEL_HASH), body);
  const started = Date.now();
  const response = await fetch(url, { method: 'POST', body, headers: { [HEADERS.paymentSignature]: voucher } });
  const output = new Uint8Array(await response.arrayBuffer());
  const elapsed = Date.now() - started;
  const verified = verifyAnswer(api.genesisHash, process.env.OPG_MODEL_HASH, inferPath(process.env.OPG_MODEL_HASH),
    body, output, OPG, response.headers.get(HEADERS.signature), nodeKey.publicKey);
  const paid = fromBase64Json(response.headers.get(HEADERS.paymentResponse));
  say(`direct paid call on channel ${channel}: ${response.status} in ${elapsed} ms, output ${u8aToHex(output)}, ` +
    `charged ${paid.charged}, evidence ${verified ? 'verified' : 'INVALID'}`);
}

// Run directly by ./scripts/dev: OPG_WS, OPG_MODEL_HASH, OPG_MODEL_SIZE and
// OPG_VERIFYING_KEY (0x-hex, the model's Groth16 key) in the environment; with
// OPG_TORCH_HASH and OPG_TORCH_SIZE, a TorchScript model too; with OPG_LLM_HASH and
// OPG_LLM_SIZE (its manifest), the language model, asked on chain.
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
    const served = [modelId];
    if (process.env.OPG_TORCH_HASH) {
      // A TorchScript model (float32 16 → 4), run by the executor on libtorch.
      const tensor = (shape) => ({ shape, dtype: 'F32', quantization: null });
      const torchId = await publishModel(api, keyring, {
        name: 'torch-mlp-demo', modelHash: process.env.OPG_TORCH_HASH, modelSize: Number(process.env.OPG_TORCH_SIZE),
        format: 'TorchScript', schema: { inputs: [tensor([1, 16])], outputs: [tensor([1, 4])] }, modes: MODES.vanilla,
      });
      served.push(torchId);
      await registerNode(api, keyring, nodeKey, served, MODES.vanilla | MODES.zkml);
      const input = new Uint8Array(new Float32Array(16).map((_, i) => Math.sin(i)).buffer);
      const torch = await requestInference(api, keyring.addFromUri('//Bob'), torchId, input);
      say(`Bob requested inference ${torch.id} of TorchScript model ${torchId}; the executor runs it on libtorch...`);
      const ran = await waitForResult(process.env.OPG_WS, torch.id);
      const probabilities = Array.from(new Float32Array(hexToU8a(ran.output.inline).buffer), (p) => p.toFixed(4));
      say(`settled in block ${ran.at}: output [${probabilities.join(', ')}], ` +
        `signature ${verifyResult(ran) ? 'verified' : 'INVALID'}`);
    }
    if (process.env.OPG_LLM_HASH) {
      // The language model, free of charge (format Llm: the artifact is its manifest; the
      // input a chat completion request's JSON, the output the answer's text).
      const bytes = (length) => ({ shape: [length], dtype: 'U8', quantization: null });
      const llmId = await publishModel(api, keyring, {
        name: 'smollm2-135m-instruct', modelHash: process.env.OPG_LLM_HASH, modelSize: Number(process.env.OPG_LLM_SIZE),
        format: 'Llm', schema: { inputs: [bytes(8192)], outputs: [bytes(16384)] }, price: 0n, modes: MODES.vanilla,
      });
      served.push(llmId);
      await registerNode(api, keyring, nodeKey, served, MODES.vanilla | MODES.zkml);
      const chat = { messages: [{ role: 'user', content: 'What is the capital of France?' }], temperature: 0, max_tokens: 32 };
      const asked = await requestInference(api, keyring.addFromUri('//Bob'), llmId,
        new TextEncoder().encode(JSON.stringify(chat)));
      say(`Bob asked language model ${llmId} on chain (request ${asked.id}): ${JSON.stringify(chat.messages[0].content)}`);
      const answered = await waitForResult(process.env.OPG_WS, asked.id);
      say(`settled in block ${answered.at}: ${JSON.stringify(new TextDecoder().decode(hexToU8a(answered.output.inline)))}, ` +
        `fee ${answered.paid}, signature ${verifyResult(answered) ? 'verified' : 'INVALID'}`);
    }
    if (process.env.OPG_DIRECT_KEY_FILE) await directCall(api, keyring, modelId, say);
    say(`try it: polkadot.js apps → Developer → Extrinsics → inference.request(model ${modelId}, ...)`);
    // The node's off-chain worker keeps the node live (nodeRegistry.submitHeartbeat, signed
    // by the node key in its keystore): nothing more to send.
  } catch (e) {
    say(`inference demo failed: ${e.message}`);
    process.exitCode = 1;
  } finally {
    await api.disconnect();
  }
}
