// Direct paid calls beside the same calls unpaid, in one run on one executor: what a
// voucher check, the evidence signature and the receipt add to a call, and what they take
// from throughput. Then a call's latency from sending to a verified answer, and the
// on-chain path's for the same model.
//
//   node scripts/direct-bench.mjs [--calls 1000] [--concurrency 8] [--torch yes] [--torch-widths 16,32,4]
//     [--wrk yes] [--only wrk]
//
// Starts its own `opg-node --dev --tmp` and `opg-executor serve` (the built binaries in
// $CARGO_TARGET_DIR/release), publishes the 784-56-10 quantized MLP (and with --torch a
// TorchScript MLP of scripts/torch-model.py, of widths --torch-widths), registers the
// executor's node key and opens channels from funded accounts. Unpaid: `POST /v1/infer` on the node listener (no
// gateway). Paid: the same call on the public listener with a voucher (signed before the
// clock starts: a client's signing is not the server's cost). Calls alternate, unpaid then
// paid, so both see the same machine. Markdown on stdout; the figures in docs/benchmarks.md
// come from this script.
//
// This client is Node's fetch: a dApp's, but on this machine's 2 cores its one JS thread is
// what saturates first. With `--wrk yes` (Debian's `wrk`, installed by `scripts/benchmark
// direct`) the same throughputs are measured again with wrk, a load generator in C that
// spends less per call than the executor does: those figures are the server's. One wrk
// thread and connection per channel keeps each channel's vouchers in order; the vouchers
// (`--wrk-calls` per channel and round) are signed before wrk starts, and a round that runs
// out of them fails rather than count refusals. Each wrk round also gives the executor's
// CPU time per call (user and system, from /proc), which does not depend on what the
// client spends. `--only wrk` measures wrk's rounds alone (no fetch rounds, no on-chain
// path): the quick loop when working on the gateway. `--perf-dir DIR` records each wrk round
// of the executor with `perf record -g` (Debian's linux-perf) into DIR/{unpaid,paid}-N.data.
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Keyring } from '@polkadot/keyring';
import { stringToU8a, u8aToHex } from '@polkadot/util';
import { cryptoWaitReady } from '@polkadot/util-crypto';
import { connect, freePort, removeDir, startNode, tempDir } from '../tests/node/helpers.mjs';
import {
  MODES, OPG, demoInput, publishModel, registerNode, requestInference, send, waitForResult,
} from '../tests/node/lib/chain.mjs';
import { inferPath, openChannel, verifyAnswer, voucherHeader } from '../tests/node/lib/direct.mjs';
import { EXECUTOR_BIN, HEADERS, startExecutor } from '../tests/node/lib/executor.mjs';

const options = { calls: 1000, concurrency: 8, torch: 'no', 'torch-widths': '16,32,4', wrk: 'no', 'wrk-calls': 8000,
  'wrk-seconds': 3, only: 'all', 'perf-dir': '' };
for (let i = 2; i < process.argv.length; i += 2) {
  const name = process.argv[i].replace(/^--/, '');
  if (!(name in options)) throw new Error(`unknown option ${process.argv[i]}`);
  options[name] = typeof options[name] === 'number' ? Number(process.argv[i + 1]) : process.argv[i + 1];
}
if (!['all', 'wrk'].includes(options.only)) throw new Error('--only takes wrk');
if (options.only === 'wrk') options.wrk = 'yes';
const fetchRounds = options.only === 'all';
const say = (line) => console.error(`[direct-bench] ${line}`);
const percentile = (values, p) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
};
const ms = (value) => value.toFixed(3);

await cryptoWaitReady();
const keyring = new Keyring({ type: 'sr25519', ss58Format: 42 });
const store = tempDir('opg-direct-bench-');
const node = await startNode(['--dev', '--tmp']);
// A run that fails part way leaves no node, executor or store behind.
const children = [node.proc];
process.on('exit', () => {
  children.forEach((child) => child.exitCode === null && child.kill('SIGKILL'));
  removeDir(store);
});
const api = await connect(node);
const alice = keyring.addFromUri('//Alice');
const genesis = api.genesisHash;

const seed = randomBytes(32);
const keyFile = path.join(store, 'node-key.hex');
writeFileSync(keyFile, seed.toString('hex'));
const nodeKey = keyring.addFromSeed(seed);

const models = [];
const printed = execFileSync(EXECUTOR_BIN, ['generate', '--widths', '784,56,10', '--seed', '1', '--store', store],
  { encoding: 'utf8' });
const mlp = { name: '784-56-10 quantized MLP', hash: printed.match(/^hash: (0x[0-9a-f]+)$/m)[1],
  size: Number(printed.match(/^size: (\d+)$/m)[1]), input: (i) => demoInput(784, i) };
mlp.id = await publishModel(api, keyring, { name: 'bench-mlp', modelHash: mlp.hash, modelSize: mlp.size,
  inputLen: 784, outputLen: 10, modes: MODES.vanilla });
models.push(mlp);
const executorArgs = ['--store', store, '--node-key', keyFile, '--chain-rpc', node.url, '--direct-model', String(mlp.id)];
if (options.torch === 'yes') {
  const dir = path.join(store, 'torch');
  const python = path.join(process.env.OPG_VENV ?? path.join(process.env.HOME, '.cache', 'opg', 'venv'), 'bin', 'python');
  const widths = options['torch-widths'].split(',').map(Number);
  execFileSync(python, [path.join(import.meta.dirname, 'torch-model.py'), '--out', dir, '--widths', widths.join(',')],
    { stdio: 'ignore' });
  const put = execFileSync(EXECUTOR_BIN, ['put', path.join(dir, 'model.pt'), '--store', store], { encoding: 'utf8' });
  const config = JSON.parse(readFileSync(path.join(dir, 'config.json'), 'utf8'));
  const inputs = readFileSync(path.join(dir, 'input.bin'));
  const inputBytes = widths[0] * 4;
  const torch = { name: `TorchScript ${widths.join('-')} (f32)`, hash: put.match(/^hash: (0x[0-9a-f]+)$/m)[1],
    size: Number(put.match(/^size: (\d+)$/m)[1]),
    input: (i) => inputs.subarray((i % 8) * inputBytes, (i % 8) * inputBytes + inputBytes) };
  const schema = {
    inputs: config.schema.inputs.map((t) => ({ shape: t.shape, dtype: 'F32', quantization: null })),
    outputs: config.schema.outputs.map((t) => ({ shape: t.shape, dtype: 'F32', quantization: null })),
  };
  torch.id = await publishModel(api, keyring, { name: 'bench-torch', modelHash: torch.hash, modelSize: torch.size,
    format: 'TorchScript', schema, modes: MODES.vanilla });
  writeFileSync(path.join(dir, 'executor.json'), JSON.stringify({ models: [{ model: torch.id }] }));
  executorArgs.push('--config', path.join(dir, 'executor.json'), '--direct-model', String(torch.id));
  models.push(torch);
}
await registerNode(api, keyring, nodeKey, models.map((m) => m.id), MODES.vanilla);
const publicPort = await freePort();
const executor = await startExecutor([...executorArgs, '--public-listen', `127.0.0.1:${publicPort}`]);
children.push(executor.proc);
const publicUrl = `http://127.0.0.1:${publicPort}`;
say(`node ${node.url}, executor ${executor.url}, public ${publicUrl}`);

// One channel per concurrent client, funded from Alice.
const clients = Array.from({ length: options.concurrency }, (_, i) => keyring.addFromUri(`//Bench${i}`));
const wrkRounds = 3;
const perClient = BigInt(options.calls * models.length * 4 + 100 +
  (options.wrk === 'yes' ? wrkRounds * options['wrk-calls'] * models.length : 0));
await send(api, api.tx.utility.batchAll(clients.map((c) => api.tx.balances.transferKeepAlive(c.address,
  (perClient + 10n) * OPG))), alice);
const channels = [];
for (const client of clients) channels.push({ client, id: await openChannel(api, client, nodeKey.publicKey, perClient * OPG), total: 0n });
say(`${channels.length} channels open`);

/** A paid call's request, signed now: the next voucher of `channel`. */
function paidRequest(channel, model, body) {
  channel.total += OPG;
  return { body, headers: { [HEADERS.paymentSignature]: voucherHeader(api, channel.client, genesis, channel.id,
    channel.total, inferPath(model.hash), body) } };
}

async function timed(url, request) {
  const start = process.hrtime.bigint();
  const response = await fetch(url, { method: 'POST', ...request });
  const bytes = new Uint8Array(await response.arrayBuffer());
  const elapsed = Number(process.hrtime.bigint() - start) / 1e6;
  if (response.status !== 200) throw new Error(`${url}: ${response.status} ${Buffer.from(bytes).toString()}`);
  return { elapsed, response, bytes };
}

// wrk: one thread and one connection per channel (its calls in order); each thread reads
// its channel's pre-signed vouchers, one a call, and the same body.
const WRK_SCRIPT = `
local threads = 0
function setup(thread)
  thread:set("channel", threads)
  threads = threads + 1
end
function init(args)
  local dir, paid = args[1], args[2] == "paid"
  local file = io.open(dir .. "/body.bin", "rb")
  body = file:read("*a")
  file:close()
  vouchers = {}
  if paid then
    for line in io.lines(dir .. "/vouchers-" .. channel .. ".txt") do vouchers[#vouchers + 1] = line end
  end
  sent = 0
end
function request()
  sent = sent + 1
  local headers = {}
  if #vouchers > 0 then headers["${HEADERS.paymentSignature}"] = vouchers[sent] end
  return wrk.format("POST", nil, headers, body)
end
`;
const wrkDir = path.join(store, 'wrk');
if (options.wrk === 'yes') {
  mkdirSync(wrkDir, { recursive: true });
  writeFileSync(path.join(wrkDir, 'bench.lua'), WRK_SCRIPT);
}

const CLOCK_TICKS = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }));
/** The CPU seconds process `pid` has used (user and system, /proc/PID/stat). */
function cpuSeconds(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
}

let perfRounds = 0;
/** Calls per second that wrk gets from `url`, unpaid or paid (vouchers signed first), and
 * the executor's CPU time per call in µs. */
function wrkRate(url, model, paidCalls) {
  const body = model.input(0);
  writeFileSync(path.join(wrkDir, 'body.bin'), body);
  if (paidCalls) {
    for (const [i, channel] of channels.entries()) {
      const lines = Array.from({ length: options['wrk-calls'] },
        () => paidRequest(channel, model, body).headers[HEADERS.paymentSignature]);
      writeFileSync(path.join(wrkDir, `vouchers-${i}.txt`), `${lines.join('\n')}\n`);
    }
  }
  let command = ['wrk', '-t', String(channels.length), '-c', String(channels.length),
    '-d', `${options['wrk-seconds']}s`, '-s', path.join(wrkDir, 'bench.lua'), url, '--', wrkDir,
    paidCalls ? 'paid' : 'unpaid'];
  if (options['perf-dir']) {
    // The executor recorded while wrk runs (wrk is perf's workload, not what it records).
    mkdirSync(options['perf-dir'], { recursive: true });
    perfRounds += 1;
    const output = path.join(options['perf-dir'], `${paidCalls ? 'paid' : 'unpaid'}-${perfRounds}.data`);
    command = ['perf', 'record', '-q', '-F', '999', '-g', '-p', String(executor.proc.pid), '-o', output,
      '--', ...command];
  }
  const cpuBefore = cpuSeconds(executor.proc.pid);
  const run = spawnSync(command[0], command.slice(1), { encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`wrk: ${run.error ?? run.stderr}`);
  const refused = run.stdout.match(/Non-2xx or 3xx responses: (\d+)/);
  if (refused) {
    throw new Error(`wrk: ${refused[1]} calls refused (${paidCalls ? 'raise --wrk-calls' : 'unpaid'}):\n${run.stdout}`);
  }
  const cpu = cpuSeconds(executor.proc.pid) - cpuBefore;
  const rate = Number(run.stdout.match(/Requests\/sec:\s+([\d.]+)/)[1]);
  const calls = Number(run.stdout.match(/(\d+) requests in/)[1]);
  const cpuPerCall = (cpu / calls) * 1e6;
  say(`wrk ${paidCalls ? 'paid' : 'unpaid'} ${model.name}: ${rate.toFixed(0)} calls/s, executor ${cpuPerCall.toFixed(1)} µs CPU a call`);
  return { rate, cpuPerCall };
}

const rows = [];
for (const model of models) {
  if (!fetchRounds) {
    rows.push({ model });
    continue;
  }
  const unpaidUrl = `${executor.url}${inferPath(model.hash)}`;
  const paidUrl = `${publicUrl}${inferPath(model.hash)}`;
  // Warm-up.
  for (let i = 0; i < 50; i += 1) {
    await timed(unpaidUrl, { body: model.input(i) });
    await timed(paidUrl, paidRequest(channels[0], model, model.input(i)));
  }
  // Latency: one client, calls alternating.
  const unpaid = [];
  const paid = [];
  const signed = Array.from({ length: options.calls }, (_, i) => paidRequest(channels[0], model, model.input(i)));
  for (let i = 0; i < options.calls; i += 1) {
    unpaid.push((await timed(unpaidUrl, { body: model.input(i) })).elapsed);
    paid.push((await timed(paidUrl, signed[i])).elapsed);
  }
  // Throughput: `concurrency` clients at once, each on its own channel.
  const throughput = async (paidCalls) => {
    const perWorker = Math.ceil(options.calls / options.concurrency);
    const requests = channels.map((channel) => Array.from({ length: perWorker },
      (_, i) => (paidCalls ? paidRequest(channel, model, model.input(i)) : { body: model.input(i) })));
    const start = process.hrtime.bigint();
    await Promise.all(requests.map(async (list) => {
      for (const request of list) await timed(paidCalls ? paidUrl : unpaidUrl, request);
    }));
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    return (perWorker * options.concurrency) / seconds;
  };
  // Three rounds, alternating unpaid and paid, so that neither gets the warmer machine;
  // the median of each.
  const unpaidRates = [];
  const paidRates = [];
  for (let round = 0; round < 3; round += 1) {
    unpaidRates.push(await throughput(false));
    paidRates.push(await throughput(true));
  }
  const unpaidRate = percentile(unpaidRates, 50);
  const paidRate = percentile(paidRates, 50);
  rows.push({ model, unpaid, paid, unpaidRate, paidRate });
  say(`${model.name}: done`);
}

// Request → verified answer, direct; and the on-chain path for the same model.
const client = channels[1];
const body = mlp.input(4242);
const direct = [];
const onChain = [];
if (fetchRounds) {
  for (let i = 0; i < 20; i += 1) {
    const request = paidRequest(client, mlp, body);
    const start = process.hrtime.bigint();
    const { response, bytes } = await timed(`${publicUrl}${inferPath(mlp.hash)}`, request);
    const ok = verifyAnswer(genesis, mlp.hash, inferPath(mlp.hash), body, bytes, client.total,
      response.headers.get(HEADERS.signature), nodeKey.publicKey);
    if (!ok) throw new Error('the evidence does not verify');
    direct.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  // The on-chain path: the executor's node key serves chain requests once the node's worker
  // knows the executor holds it.
  const hex = (text) => u8aToHex(stringToU8a(text));
  await api.rpc.offchain.localStorageSet('PERSISTENT', hex('opg::executor-url'), hex(executor.url));
  await api.rpc.offchain.localStorageSet('PERSISTENT', hex('opg::executor-node-key'), u8aToHex(nodeKey.publicKey));
  for (let i = 0; i < 5; i += 1) {
    const start = Date.now();
    const { id } = await requestInference(api, keyring.addFromUri('//Bob'), mlp.id, mlp.input(i + 7));
    await waitForResult(node.url, id);
    onChain.push(Date.now() - start);
  }
}

// wrk last: its rounds leave fetch's kept-alive connections idle past the executor's
// timeout.
if (options.wrk === 'yes') {
  for (const row of rows) {
    const wrkUnpaid = [];
    const wrkPaid = [];
    for (let round = 0; round < wrkRounds; round += 1) {
      wrkUnpaid.push(wrkRate(`${executor.url}${inferPath(row.model.hash)}`, row.model, false));
      wrkPaid.push(wrkRate(`${publicUrl}${inferPath(row.model.hash)}`, row.model, true));
    }
    // The median round of each kind, by rate.
    const median = (runs) => [...runs].sort((a, b) => a.rate - b.rate)[(runs.length - 1) >> 1];
    row.wrk = { unpaid: median(wrkUnpaid), paid: median(wrkPaid) };
  }
}

if (fetchRounds) {
  console.log(`| model | unpaid p50 ms | paid p50 ms | added p50 ms | unpaid p95 ms | paid p95 ms | unpaid calls/s | paid calls/s | paid ÷ unpaid |`);
  console.log('|---|---|---|---|---|---|---|---|---|');
  for (const { model, unpaid, paid, unpaidRate, paidRate } of rows) {
    const [u50, p50] = [percentile(unpaid, 50), percentile(paid, 50)];
    console.log(`| ${model.name} | ${ms(u50)} | ${ms(p50)} | ${ms(p50 - u50)} | ${ms(percentile(unpaid, 95))} | ` +
      `${ms(percentile(paid, 95))} | ${unpaidRate.toFixed(0)} | ${paidRate.toFixed(0)} | ${(paidRate / unpaidRate).toFixed(2)} |`);
  }
}
if (options.wrk === 'yes') {
  console.log('');
  console.log(`Server-bound, wrk (${channels.length} threads and connections, ${options['wrk-seconds']} s ` +
    `per measurement, median of ${wrkRounds} rounds, unpaid and paid alternating):`);
  console.log('');
  console.log('| model | unpaid calls/s | paid calls/s | paid ÷ unpaid | executor CPU µs a call: unpaid | paid | added |');
  console.log('|---|---|---|---|---|---|---|');
  for (const { model, wrk } of rows) {
    const [unpaid, paid] = [wrk.unpaid, wrk.paid];
    console.log(`| ${model.name} | ${unpaid.rate.toFixed(0)} | ${paid.rate.toFixed(0)} | ${(paid.rate / unpaid.rate).toFixed(2)} | ` +
      `${unpaid.cpuPerCall.toFixed(1)} | ${paid.cpuPerCall.toFixed(1)} | ${(paid.cpuPerCall - unpaid.cpuPerCall).toFixed(1)} |`);
  }
}
if (fetchRounds) {
  console.log('');
  console.log(`Request → verified answer, ${mlp.name}: direct p50 ${ms(percentile(direct, 50))} ms ` +
    `(20 calls); on-chain (request included, served, result included and read over RPC) p50 ` +
    `${percentile(onChain, 50)} ms (5 requests, ${(percentile(onChain, 50) / 6000).toFixed(1)} blocks of 6 s).`);
  console.log(`${options.calls} calls per measurement, ${options.concurrency} concurrent clients for throughput ` +
    '(median of 3 rounds, unpaid and paid alternating).');
}

await api.disconnect();
await node.stop();
executor.stop();
removeDir(store);
process.exit(0);
