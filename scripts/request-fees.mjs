// Prints what an inference request costs in transaction fees, by mode and input, as
// `paymentInfo` computes it for Alice's signature (the weight and length fee; the model's
// price is separate: it is held and paid to the node). The fee does not depend on chain
// state, so any running chain answers: `node scripts/request-fees.mjs [ws://127.0.0.1:9944]`.
import { ApiPromise, WsProvider } from '@polkadot/api';
import { Keyring } from '@polkadot/keyring';
import { u8aToHex } from '@polkadot/util';
import { cryptoWaitReady } from '@polkadot/util-crypto';

const url = process.argv[2] ?? 'ws://127.0.0.1:9944';
await cryptoWaitReady();
const api = await ApiPromise.create({ provider: new WsProvider(url), noInitWarn: true });
const alice = new Keyring({ type: 'sr25519' }).addFromUri('//Alice');
const OPG = 10n ** 18n;
const inline = (length) => ({ Inline: u8aToHex(new Uint8Array(length).fill(1)) });
const stored = { Stored: { hash: u8aToHex(new Uint8Array(32).fill(2)), size: 1_000_000, locator: 'http://example/input' } };
const commitment = u8aToHex(new Uint8Array(32).fill(3).map((b, i) => (i === 31 ? 0 : b)));
const rows = [
  ['Vanilla, Individual, inline 784 B', api.tx.inference.request(0, inline(784), 'Vanilla', 'Individual', OPG, 20)],
  ['Vanilla, Individual, inline 16 KiB', api.tx.inference.request(0, inline(16 * 1024), 'Vanilla', 'Individual', OPG, 20)],
  ['Tee, Batch, inline 784 B', api.tx.inference.request(0, inline(784), 'Tee', 'Batch', OPG, 20)],
  ['Vanilla, Private, stored', api.tx.inference.request(0, stored, 'Vanilla', 'Private', OPG, 20)],
  ['Zkml, Individual, inline 784 B', api.tx.inference.request(0, inline(784), 'Zkml', 'Individual', OPG, 20)],
  ['Zkml, Individual, inline 16 KiB', api.tx.inference.request(0, inline(16 * 1024), 'Zkml', 'Individual', OPG, 20)],
  ['Zkml, stored (`request_zkml_stored`)', api.tx.inference.requestZkmlStored(0, stored, commitment, OPG, 20)],
];
console.log('| request | weight (ref time) | length | fee |');
console.log('|---|---|---|---|');
for (const [name, tx] of rows) {
  const info = await tx.paymentInfo(alice);
  const fee = Number(info.partialFee.toBigInt() * 10000n / OPG) / 10000;
  const length = (await tx.signAsync(alice, { nonce: 0 })).encodedLength;
  console.log(`| ${name} | ${(info.weight.refTime.toBigInt() / 1000n).toLocaleString('en')} ns | ${length.toLocaleString('en')} B | ${fee} OPG |`);
}
await api.disconnect();
