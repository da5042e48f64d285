// A verified inference, each way OPG serves one, with the TypeScript SDK (@opg/sdk, sdk/ts).
//
// Given a published model (--model, an id; the 784 → 10 int8 MLP that ./scripts/dev
// publishes) and a node's gateway (--gateway), as account --signer:
//   1. lists the model hub;
//   2. requests an inference on chain in vanilla mode, waits until it is settled and checks
//      the node key's signature over it (and that the node is registered);
//   3. the same in ZKML mode: the Groth16 proof is checked here, in JS, against the model's
//      verifying key read from the chain, for this input, output, request and node;
//   4. calls the model directly at the gateway: the 402 is answered by opening a payment
//      channel, each call is paid by a voucher and answered at once, its evidence checked here;
//   5. shows that an answer altered by one byte fails its check, and says which.
// Prints one JSON line a step; exits non-zero if anything fails to verify.
//
//   node examples/ts/verified-inference.mjs --url ws://127.0.0.1:9944 --signer //Bob \
//     --model 0 --gateway http://127.0.0.1:8080
import { parseArgs } from 'node:util';
import { Client, OPG } from '@opg/sdk';

const { values: args } = parseArgs({
  options: {
    url: { type: 'string', default: 'ws://127.0.0.1:9944' }, signer: { type: 'string', default: '//Bob' },
    model: { type: 'string', default: '0' }, gateway: { type: 'string' },
  },
});

/** A deterministic input of `length` bytes (the demo's: (i·31 + seed·17) mod 256). */
const demoInput = (length, seed) => Uint8Array.from({ length }, (_, i) => (i * 31 + seed * 17) % 256);
const json = (value) => JSON.stringify(value, (_, v) => (typeof v === 'bigint' ? v.toString()
  : v instanceof Uint8Array ? `0x${Buffer.from(v).toString('hex')}` : v));
const say = (step, fields) => console.log(json({ step, ...fields }));

const client = await Client.connect(args.url, { signer: args.signer, gateway: args.gateway });
try {
  const model = Number(args.model);
  const models = await client.models.list();
  say('models', { models: models.map((m) => ({ id: m.id, name: m.name, hash: m.hash, price: m.price, modes: m.modes })) });
  const { size } = models.find((m) => m.id === model);

  for (const mode of ['Vanilla', 'Zkml']) {
    const started = Date.now();
    const result = await client.infer(model, demoInput(784, mode === 'Zkml' ? 2 : 1), { mode });
    const verdict = await client.verify(result);
    say(`on-chain ${mode.toLowerCase()}`, { request: result.id, output: result.output, paid: result.paid,
      protocolFee: result.protocolFee, seconds: (Date.now() - started) / 1000, verdict: verdict.toString() });
  }

  if (args.gateway) {
    let answer;
    for (let i = 0; i < 2; i++) answer = await client.direct(model, demoInput(784, 3 + i));
    say('direct', { output: answer.output, channel: answer.channel, cumulative: answer.cumulative,
      verdict: (await client.verify(answer)).toString() });
    answer.output = Uint8Array.of(answer.output[0] ^ 1, ...answer.output.slice(1));
    const verdict = await client.verify(answer);
    say('altered answer', { verified: verdict.ok, verdict: verdict.toString() });
  }
  say('done', { artifactBytes: size, opg: OPG });
} finally {
  client.destroy();
}
