// The inference loop on a development chain, as a dApp and a node operator drive it with
// plain @polkadot/api (through tests/node/lib/chain.mjs): publish a quantized-integer
// model, register an inference node whose key the node's keystore holds, request an
// inference, and read the settled result with its evidence over `inference_*` RPC. Run by
// `./scripts/dev`.
import { u8aToHex, hexToU8a } from '@polkadot/util';
import {
  MODES, OPG, demoInput, publishModel, registerNode, requestInference, setUpServing, verifyResult, waitForResult,
} from '../tests/node/lib/chain.mjs';

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
    // The node's off-chain worker keeps the node live (nodeRegistry.submitHeartbeat, signed
    // by the node key in its keystore): nothing more to send.
  } catch (e) {
    say(`inference demo failed: ${e.message}`);
    process.exitCode = 1;
  } finally {
    await api.disconnect();
  }
}
