// Load on a running development chain: how many results one inference node settles per
// block, and how long requests wait. Start the chain with ./scripts/dev, then:
//
//   node scripts/load.mjs [--requests 3000] [--settlement Batch|Individual] [--window 20]
//                         [--senders 24] [--url ws://127.0.0.1:9944] [--backlog yes]
//                         [--executor http://127.0.0.1:8700]
//
// It serves the development model (the 784-56-10 quantized MLP that ./scripts/dev puts in
// the executor's store) with the development node key (jobsPerBlock 1000, in the node's
// keystore), funds `--senders` accounts from Alice, sends all the requests at once (each
// sender's in nonce order), and follows every block until each request is settled or
// ended: per block, the requests included, the results settled, the batches, and the
// block's normal weight; then the settlement rate and the request→settled latency in
// blocks (p50, p95). Markdown on stdout, progress on stderr. The figures in
// docs/benchmarks.md come from this script.
import { execFileSync } from 'node:child_process';
import { homedir } from 'node:os';
import path from 'node:path';
import { ApiPromise, WsProvider } from '@polkadot/api';
import { Keyring } from '@polkadot/keyring';
import { u8aToHex } from '@polkadot/util';
import { cryptoWaitReady } from '@polkadot/util-crypto';
import { OPG, demoInput, send, setUpServing } from '../tests/node/lib/chain.mjs';

const options = {
  requests: 3000, settlement: 'Batch', window: 20, senders: 24, url: 'ws://127.0.0.1:9944', backlog: 'no',
  executor: 'http://127.0.0.1:8700',
};
for (let i = 2; i < process.argv.length; i += 2) {
  const name = process.argv[i].replace(/^--/, '');
  if (!(name in options)) throw new Error(`unknown option ${process.argv[i]}`);
  options[name] = typeof options[name] === 'number' ? Number(process.argv[i + 1]) : process.argv[i + 1];
}
const say = (line) => console.error(`[load] ${line}`);

const cache = process.env.OPG_CACHE ?? path.join(homedir(), '.cache', 'opg');
const target = process.env.CARGO_TARGET_DIR ?? path.join(cache, 'target');
// The model ./scripts/dev generates (same widths and seed: the same bytes and hash).
const printed = execFileSync(path.join(target, 'release', 'opg-executor'),
  ['generate', '--widths', '784,56,10', '--seed', '1', '--store', path.join(cache, 'dev-artifacts')],
  { encoding: 'utf8' });
const model = { hash: printed.match(/^hash: (0x[0-9a-f]+)$/m)[1], size: Number(printed.match(/^size: (\d+)$/m)[1]) };

await cryptoWaitReady();
const api = await ApiPromise.create({ provider: new WsProvider(options.url), noInitWarn: true });
const keyring = new Keyring({ type: 'sr25519', ss58Format: 42 });
const alice = keyring.addFromUri('//Alice');

const { modelId } = await setUpServing(api, keyring,
  { modelHash: model.hash, modelSize: model.size, inputLen: 784, outputLen: 10 });
say(`model ${modelId} (${model.hash}) served by the development node`);

const senders = Array.from({ length: options.senders }, (_, i) => keyring.addFromUri(`//Load${i}`));
const perSender = Math.ceil(options.requests / senders.length);
// Each request holds its price (1 OPG) and record deposit, and pays a fee of a few
// tenths of an OPG: two OPG a request covers them.
await send(api, api.tx.utility.batchAll(
  senders.map((sender) => api.tx.balances.transferKeepAlive(sender.address, BigInt(2 * perSender + 10) * OPG))), alice);
say(`${senders.length} senders funded`);

// With `--backlog yes`, the node's executor URL points nowhere until every request is on
// chain, so that the node then settles them all at once: its settlement capacity, apart
// from the block space the requests take.
const executorUrl = options.executor;
const setExecutorUrl = (url) =>
  api.rpc.offchain.localStorageSet('PERSISTENT', u8aToHex(new TextEncoder().encode('opg::executor-url')),
    u8aToHex(new TextEncoder().encode(url)));
let backlog = options.backlog === 'yes';
if (backlog) {
  await setExecutorUrl('http://127.0.0.1:9');
  say('executor URL pointed nowhere: requests pile up');
}

// Follow every block from now on: what it included and settled.
const blocks = [];
const submittedAt = new Map();
const endedAt = new Map();
const failed = { missed: 0, expired: 0, refused: 0, dispatch: 0 };
const weightLimit = api.consts.system.blockWeights.perClass.normal.maxTotal.unwrap().refTime.toBigInt();
let resolveDone;
const done = new Promise((resolve) => { resolveDone = resolve; });
// Blocks in order, none skipped: each new head brings the blocks since the last one seen.
let next = (await api.rpc.chain.getHeader()).number.toNumber() + 1;
let reading = Promise.resolve();
const unsubscribe = await api.rpc.chain.subscribeNewHeads((header) => {
  const head = header.number.toNumber();
  reading = reading.then(async () => {
    for (; next <= head; next += 1) await readBlock(next);
  });
});

async function readBlock(number) {
  const hash = await api.rpc.chain.getBlockHash(number);
  const at = await api.at(hash);
  const [events, weight, block] = await Promise.all([at.query.system.events(), at.query.system.blockWeight(),
    api.rpc.chain.getBlock(hash)]);
  const row = { number, requests: 0, settled: 0, batches: 0, extrinsics: block.block.extrinsics.length,
    weight: Number(weight.normal.refTime.toBigInt() * 1000n / weightLimit) / 10 };
  for (const { event } of events) {
    if (event.section === 'system' && event.method === 'ExtrinsicFailed') {
      failed.dispatch += 1;
      say(`an extrinsic failed: ${JSON.stringify(event.data[0].toHuman())}`);
    }
    if (event.section !== 'inference') continue;
    const id = event.data.request?.toNumber?.();
    if (event.method === 'RequestSubmitted') { row.requests += 1; submittedAt.set(id, row.number); }
    if (event.method === 'ResultAccepted') { row.settled += 1; endedAt.set(id, row.number); }
    if (event.method === 'BatchSettled') row.batches += 1;
    if (event.method === 'DeadlineMissed') failed.missed += 1;
    if (event.method === 'RequestExpired' || event.method === 'RequestUnservable') { failed.expired += 1; endedAt.set(id, row.number); }
  }
  blocks.push(row);
  say(`#${row.number}: ${row.requests} requests, ${row.settled} settled in ${row.batches} batches, ` +
    `${row.extrinsics} extrinsics, normal weight ${row.weight}%`);
  const answered = submittedAt.size + failed.refused + failed.dispatch;
  if (answered >= options.requests && [...submittedAt.keys()].every((id) => endedAt.has(id))) {
    resolveDone();
  }
  if (backlog && submittedAt.size + failed.refused + failed.dispatch >= options.requests) {
    backlog = false;
    await setExecutorUrl(executorUrl);
    say('every request is on chain: the executor is back, the node serves the backlog');
  }
}

// Every request at once: each sender's in nonce order, all senders side by side.
const started = Date.now();
await Promise.all(senders.map(async (sender, s) => {
  let nonce = (await api.rpc.system.accountNextIndex(sender.address)).toNumber();
  for (let i = 0; i < perSender && s * perSender + i < options.requests; i += 1) {
    const input = demoInput(784, s * perSender + i + 1);
    const tx = api.tx.inference.request(modelId, { Inline: u8aToHex(input) }, 'Vanilla', options.settlement, 2n * OPG,
      options.window);
    await tx.signAsync(sender, { nonce });
    nonce += 1;
    api.rpc.author.submitExtrinsic(tx).catch((error) => {
      failed.refused += 1;
      say(`a request was refused by the pool: ${error.message}`);
    });
  }
}));
say(`${options.requests} requests sent in ${((Date.now() - started) / 1000).toFixed(1)} s`);

const timeout = setTimeout(resolveDone, (options.window * 3 + 20) * 6000);
await done;
clearTimeout(timeout);
unsubscribe();

const active = blocks.filter((row) => row.requests || row.settled);
const latencies = [...endedAt.entries()].filter(([id]) => submittedAt.has(id))
  .map(([id, at]) => at - submittedAt.get(id)).sort((a, b) => a - b);
const quantile = (q) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))];
const settled = active.reduce((sum, row) => sum + row.settled, 0);
const busiest = Math.max(...active.map((row) => row.settled));
console.log(`| block | requests included | results settled | batches | extrinsics | normal weight |`);
console.log(`|---|---|---|---|---|---|`);
for (const row of active) {
  console.log(`| ${row.number} | ${row.requests} | ${row.settled} | ${row.batches} | ${row.extrinsics} | ${row.weight} % |`);
}
console.log();
console.log(`${options.requests} ${options.settlement} requests (window ${options.window}${
  options.backlog === 'yes' ? ', served once all were on chain' : ''}) from ${senders.length} senders: ` +
  `${submittedAt.size} included, ${settled} settled, ${failed.expired} ended unserved, ${failed.missed} missed deadlines, ` +
  `${failed.refused} refused by the pool, ${failed.dispatch} failed extrinsics; at most ${busiest} results settled in one block; ` +
  `request→settled latency p50 ${quantile(0.5)} blocks, p95 ${quantile(0.95)} blocks.`);
await api.disconnect();
