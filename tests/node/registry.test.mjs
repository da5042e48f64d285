// The node registry on a --dev chain, driven by @polkadot/api as an operator would: a node
// registers with a bond, answers a challenge with evidence from the dev producer, and
// governance allows a new measurement through a referendum on the policy track.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { u8aToHex } from '@polkadot/util';
import { decodeAddress } from '@polkadot/util-crypto';
import { NODE_BIN, startDevChain, waitFor } from './helpers.mjs';
import { MODES, OPG, eventOf, publishModel, send as sendTx } from './lib/chain.mjs';
import { registrationMessage } from './lib/messages.mjs';

const DEV_EVIDENCE = path.join(path.dirname(NODE_BIN), 'opg-dev-evidence');
const send = (tx, signer) => sendTx(api, tx, signer);

let dev;
let api;
let keyring;

before(async () => {
  dev = await startDevChain();
  ({ api, keyring } = dev);
});

after(async () => {
  await dev?.stop();
});

test('a node registers, answers a challenge with dev evidence and is attested', async () => {
  const operator = keyring.addFromUri('//Alice');
  const nodeKey = keyring.addFromUri('//opg-test-node');
  const genesis = api.genesisHash;
  const message = registrationMessage(genesis, decodeAddress(operator.address));
  // Nodes declare only models someone can request: published and active.
  const model = await publishModel(api, keyring, {
    name: 'registry-test', modelHash: u8aToHex(new Uint8Array(32).fill(0x11)), modelSize: 1000,
    inputLen: 4, outputLen: 2, modes: MODES.vanilla | MODES.tee,
  });
  const unpublished = {
    models: [model + 1000], modes: 0b011, hardware: { class: 'Cpu', gpuModel: '', gpuMemoryMib: 0 }, endpoint: '',
    jobsPerBlock: 64,
  };
  await assert.rejects(
    send(api.tx.nodeRegistry.register(nodeKey.publicKey, 0b001, unpublished, 1000n * OPG, nodeKey.sign(message)), operator),
    /ModelUnavailable/,
  );
  // An inference node declares how many jobs a block it serves: at least one.
  const idle = { ...unpublished, models: [model], jobsPerBlock: 0 };
  await assert.rejects(
    send(api.tx.nodeRegistry.register(nodeKey.publicKey, 0b001, idle, 1000n * OPG, nodeKey.sign(message)), operator),
    /NoJobsPerBlock/,
  );
  const capabilities = {
    models: [model],
    modes: 0b011,
    hardware: { class: 'Gpu', gpuModel: 'NVIDIA H100 80GB HBM3', gpuMemoryMib: 81559 },
    endpoint: 'http://127.0.0.1:8700',
    jobsPerBlock: 64,
  };
  const bond = 1000n * OPG;
  const registered = await send(
    api.tx.nodeRegistry.register(nodeKey.publicKey, 0b001, capabilities, bond, nodeKey.sign(message)),
    operator,
  );
  const event = eventOf(registered, api.events.nodeRegistry.NodeRegistered);
  assert.equal(event.data.node.toHex(), u8aToHex(nodeKey.publicKey));
  assert.equal(event.data.bond.toBigInt(), bond);

  const challenged = await send(api.tx.nodeRegistry.requestChallenge(nodeKey.publicKey), operator);
  const nonce = eventOf(challenged, api.events.nodeRegistry.ChallengeIssued).data.nonce.toHex();

  const document = execFileSync(DEV_EVIDENCE, [
    'nitro', '--node-key', u8aToHex(nodeKey.publicKey), '--genesis', genesis.toHex(), '--nonce', nonce,
    '--operator', u8aToHex(decodeAddress(operator.address)),
  ], { encoding: 'utf8' }).trim();
  const attested = await send(api.tx.nodeRegistry.submitAttestation(nodeKey.publicKey, { Nitro: { document } }), operator);
  const record = eventOf(attested, api.events.nodeRegistry.NodeAttested);
  assert.equal(record.data.tee.toString(), 'Nitro');
  const stored = await api.query.nodeRegistry.attestations(nodeKey.publicKey);
  assert.equal(stored.unwrap().measurement.toHex(), record.data.measurement.toHex());

  // The nonce was consumed: the same document cannot be replayed.
  await assert.rejects(
    send(api.tx.nodeRegistry.submitAttestation(nodeKey.publicKey, { Nitro: { document } }), operator),
    /nodeRegistry\.NoChallenge/,
  );
});

test('governance allows a new measurement through a referendum on the policy track', async () => {
  const printed = execFileSync(DEV_EVIDENCE, ['measurement', '--image', 'opg-inference-v2'], { encoding: 'utf8' });
  const measurementHex = printed.match(/^measurement: (0x[0-9a-f]+)$/m)[1];
  const hash = printed.match(/^hash: (0x[0-9a-f]+)$/m)[1];
  const measurement = api.createType('OpgAttestationMeasurement', measurementHex);
  const call = api.tx.nodeRegistry.allowMeasurement(measurement, 0);
  const alice = keyring.addFromUri('//Alice');

  // Not directly.
  await assert.rejects(send(call, alice), /BadOrigin/);

  const index = (await api.query.referenda.referendumCount()).toNumber();
  await send(api.tx.preimage.notePreimage(call.method.toHex()), alice);
  await send(api.tx.referenda.submit(
    { Origins: 'Policy' },
    { Lookup: { hash: call.method.hash, len: call.method.encodedLength } },
    { After: 0 },
  ), alice);
  await send(api.tx.referenda.placeDecisionDeposit(index), alice);
  const vote = { Standard: { vote: { aye: true, conviction: 'Locked1x' }, balance: 900000n * OPG } };
  await Promise.all(['//Alice', '//Bob', '//Charlie'].map((uri) =>
    send(api.tx.convictionVoting.vote(index, vote), keyring.addFromUri(uri))));

  await waitFor('the measurement on the allow-list',
    async () => (await api.query.nodeRegistry.allowedMeasurements('Nitro', hash)).isSome,
    (allowed) => allowed, 300000);
  const info = await api.query.referenda.referendumInfoFor(index);
  assert.ok(info.unwrap().isApproved);
});
