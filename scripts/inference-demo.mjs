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
  say(`without a voucher: ${refused.status} ${required.error}, price ${opg(required.accepts[0].amount)} a call`);
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
  say(`with a voucher on Bob's channel ${channel}: ${response.status} in ${elapsed} ms, output ${u8aToHex(output)}, ` +
    `charged ${opg(paid.charged)}, evidence ${verified ? 'verified' : 'INVALID'}`);
}

/** `plancks` as OPG, e.g. "0.95 OPG". */
function opg(plancks) {
  const value = BigInt(plancks);
  const whole = value / OPG;
  const fraction = (value % OPG).toString().padStart(18, '0').replace(/0+$/, '');
  return `${whole}${fraction ? `.${fraction}` : ''} OPG`;
}

/**
 * The Python SDK's check of a settled request (`opg verify ID --input FILE --model M`, in
 * OPG_SDK_VENV): its verdict line, or why it could not run.
 */
async function verifyWithSdk(id, input, model) {
  if (!process.env.OPG_SDK_VENV) return 'not checked (no OPG_SDK_VENV)';
  const { spawnSync } = await import('node:child_process');
  const { mkdtempSync, rmSync, writeFileSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const path = await import('node:path');
  const dir = mkdtempSync(path.join(tmpdir(), 'opg-demo-'));
  try {
    writeFileSync(path.join(dir, 'input.bin'), input);
    const run = spawnSync(path.join(process.env.OPG_SDK_VENV, 'bin/opg'),
      ['--url', process.env.OPG_WS, 'verify', String(id), '--input', path.join(dir, 'input.bin'), '--model', String(model)],
      { encoding: 'utf8', timeout: 120000 });
    return (run.stderr || run.error?.message || `exit ${run.status}`).trim().split('\n').pop();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// Run directly by ./scripts/dev: OPG_WS, OPG_MODEL_HASH, OPG_MODEL_SIZE and
// OPG_VERIFYING_KEY (0x-hex, the model's Groth16 key) in the environment; with
// OPG_TORCH_HASH and OPG_TORCH_SIZE, a TorchScript model too; with OPG_LLM_HASH and
// OPG_LLM_SIZE (its manifest), the language model, asked on chain; with OPG_SDK_VENV, each
// settled request's evidence is checked again by the Python SDK (`opg verify`). Progress
// goes to stderr as it happens, then one summary block.
if (import.meta.url === `file://${process.argv[1]}`) {
  const { ApiPromise, WsProvider } = await import('@polkadot/api');
  const { Keyring } = await import('@polkadot/keyring');
  const { cryptoWaitReady } = await import('@polkadot/util-crypto');
  await cryptoWaitReady();
  const api = await ApiPromise.create({ provider: new WsProvider(process.env.OPG_WS), noInitWarn: true });
  const keyring = new Keyring({ type: 'sr25519', ss58Format: 42 });
  const say = (line) => console.error(`[demo] ${line}`);
  const models = [];
  const requests = [];
  const direct = [];
  let node = null;
  let failure = null;
  /** Requests `input` of `model` from Bob, waits for the result and checks it twice. */
  const ask = async (model, input, mode = 'Vanilla') => {
    const { id } = await requestInference(api, keyring.addFromUri('//Bob'), model.id, input, { mode });
    say(`Bob requested inference ${id} of model ${model.id} (${mode}); waiting for the off-chain worker and executor...`);
    const result = await waitForResult(process.env.OPG_WS, id);
    const entry = { id, model, mode, result, signature: verifyResult(result), sdk: await verifyWithSdk(id, input, model.id) };
    say(`request ${id} settled in block ${result.at}; ${entry.sdk}`);
    requests.push(entry);
    return result;
  };
  try {
    const { modelId, nodeKey } = await setUpServing(api, keyring, {
      modelHash: process.env.OPG_MODEL_HASH, modelSize: Number(process.env.OPG_MODEL_SIZE), inputLen: 784, outputLen: 10,
      verifyingKey: hexToU8a(process.env.OPG_VERIFYING_KEY),
    });
    node = u8aToHex(nodeKey.publicKey);
    const mlp = { id: modelId, name: 'mnist-mlp-demo', hash: process.env.OPG_MODEL_HASH, format: 'QuantizedInteger',
      modes: 'vanilla, zkml', price: OPG };
    models.push(mlp);
    say(`model ${modelId} (${process.env.OPG_MODEL_HASH}) served by node ${node}`);
    await ask(mlp, demoInput(784));
    await ask(mlp, demoInput(784, 2), 'Zkml');
    const served = [modelId];
    if (process.env.OPG_TORCH_HASH) {
      // A TorchScript model (float32 16 → 4), run by the executor on libtorch.
      const tensor = (shape) => ({ shape, dtype: 'F32', quantization: null });
      const torchId = await publishModel(api, keyring, {
        name: 'torch-mlp-demo', modelHash: process.env.OPG_TORCH_HASH, modelSize: Number(process.env.OPG_TORCH_SIZE),
        format: 'TorchScript', schema: { inputs: [tensor([1, 16])], outputs: [tensor([1, 4])] }, modes: MODES.vanilla,
      });
      const torch = { id: torchId, name: 'torch-mlp-demo', hash: process.env.OPG_TORCH_HASH, format: 'TorchScript',
        modes: 'vanilla', price: OPG };
      models.push(torch);
      served.push(torchId);
      await registerNode(api, keyring, nodeKey, served, MODES.vanilla | MODES.zkml);
      const ran = await ask(torch, new Uint8Array(new Float32Array(16).map((_, i) => Math.sin(i)).buffer));
      const probabilities = Array.from(new Float32Array(hexToU8a(ran.output.inline).buffer), (p) => p.toFixed(4));
      requests.at(-1).shown = `[${probabilities.join(', ')}]`;
    }
    if (process.env.OPG_LLM_HASH) {
      // The language model, free of charge (format Llm: the artifact is its manifest; the
      // input a chat completion request's JSON, the output the answer's text).
      const bytes = (length) => ({ shape: [length], dtype: 'U8', quantization: null });
      const llmId = await publishModel(api, keyring, {
        name: 'smollm2-135m-instruct', modelHash: process.env.OPG_LLM_HASH, modelSize: Number(process.env.OPG_LLM_SIZE),
        format: 'Llm', schema: { inputs: [bytes(8192)], outputs: [bytes(16384)] }, price: 0n, modes: MODES.vanilla,
      });
      const llm = { id: llmId, name: 'smollm2-135m-instruct', hash: process.env.OPG_LLM_HASH, format: 'Llm',
        modes: 'vanilla', price: 0n };
      models.push(llm);
      served.push(llmId);
      await registerNode(api, keyring, nodeKey, served, MODES.vanilla | MODES.zkml);
      const chat = { messages: [{ role: 'user', content: 'What is the capital of France?' }], temperature: 0, max_tokens: 32 };
      const answered = await ask(llm, new TextEncoder().encode(JSON.stringify(chat)));
      requests.at(-1).shown = `${JSON.stringify(chat.messages[0].content)} → ` +
        JSON.stringify(new TextDecoder().decode(hexToU8a(answered.output.inline)));
    }
    if (process.env.OPG_DIRECT_KEY_FILE) await directCall(api, keyring, modelId, (line) => { say(line); direct.push(line); });
  } catch (e) {
    say(`inference demo failed: ${e.message}`);
    failure = e.message;
    process.exitCode = 1;
  } finally {
    await api.disconnect();
  }
  const lines = ['', '  ── OPG demo: what happened ──', '', '  Models (published by Alice in the model hub):'];
  for (const m of models) {
    lines.push(`    ${String(m.id).padStart(2)}  ${m.name.padEnd(22)} ${m.format.padEnd(17)} ${m.modes.padEnd(14)} ` +
      `${m.price ? `${opg(m.price)} a call` : 'free'}`);
    lines.push(`        ${m.hash}`);
  }
  if (node) lines.push('', `  Inference node ${node} (operator Alice; its key in the node's keystore)`);
  lines.push('', '  Requests (by Bob, served off-chain, settled on chain):');
  for (const r of requests) {
    const fee = BigInt(r.result.paid) + BigInt(r.result.protocolFee);
    lines.push(`    #${r.id} model ${r.model.id} ${r.mode}, block ${r.result.at}: ` +
      `${r.shown ?? `output ${r.result.output.inline}`}`);
    // Proven results are paid at once; vanilla and TEE ones when their challenge window ends
    // (docs/verification.md).
    const when = r.mode === 'Zkml' ? '' : ' once the challenge window ends';
    lines.push(fee === 0n ? '        free of charge' : `        fee ${opg(fee)}: ${opg(r.result.paid)} to the node's ` +
      `operator${when}, ${opg(r.result.protocolFee)} protocol fee to the treasury`);
    lines.push(`        evidence: ${r.signature ? 'node signature checked (JS)' : 'node signature INVALID'}; ` +
      `Python SDK: ${r.sdk}`);
  }
  if (direct.length) lines.push('', '  Direct paid call (no block in the way):', ...direct.map((line) => `    ${line}`));
  if (failure) lines.push('', `  The demo stopped here: ${failure}`, '  (the node\'s and executors\' logs say more)');
  lines.push('', '  Try next:',
    `    ${process.env.OPG_SDK_VENV ?? '<sdk venv>'}/bin/opg --url ${process.env.OPG_WS} models`,
    `    ${process.env.OPG_SDK_VENV ?? '<sdk venv>'}/bin/python examples/python/verified_inference.py --url ` +
      `${process.env.OPG_WS} --model ${models[0]?.id ?? 0} --gateway ${process.env.OPG_DIRECT_URL ?? 'http://127.0.0.1:8080'}`,
    `    ${process.env.OPG_SDK_VENV ?? '<sdk venv>'}/bin/opg --url ${process.env.OPG_WS} --signer //Bob chat ` +
      `smollm2-135m-instruct --gateway ${process.env.OPG_DIRECT_URL ?? 'http://127.0.0.1:8080'}`,
    '    polkadot.js apps → Developer → Extrinsics → inference.request(model, ...)',
    '    docs/getting-started.md', '');
  console.error(lines.join('\n'));
}
