// Chat with a language model paid by the token, every answer verified, with the TypeScript
// SDK (@opg/sdk). Given a node's gateway (--gateway) selling a language model (--model, its
// name there) at a price per token, as account --signer: the first call's 402 is answered by
// opening a payment channel to the node the offer names; each call is then paid by a voucher
// authorizing the prompt and --max-tokens tokens, charged what it used, and its evidence (the
// node key's signature over the exact request, text, seed and amount; the node registered;
// the model published) checked in JS. The second call is streamed, checked when it ends.
// Prints one JSON line a call; exits non-zero if an answer fails its check.
//
//   node examples/ts/paid-chat.mjs --url ws://127.0.0.1:9944 --signer //Bob \
//     --gateway http://127.0.0.1:8080 --model smollm2-135m-instruct
import { parseArgs } from 'node:util';
import { Client } from '@opg/sdk';

const { values: args } = parseArgs({
  options: {
    url: { type: 'string', default: 'ws://127.0.0.1:9944' }, signer: { type: 'string', default: '//Bob' },
    gateway: { type: 'string' }, model: { type: 'string', default: 'smollm2-135m-instruct' },
    'max-tokens': { type: 'string', default: '24' },
  },
});

const client = await Client.connect(args.url, { signer: args.signer, gateway: args.gateway });
try {
  const ask = [{ role: 'user', content: 'What is the capital of France?' }];
  const options = { maxTokens: Number(args['max-tokens']), params: { temperature: 0 } };
  const answer = await client.chat(args.model, ask, options);
  console.log(JSON.stringify({ call: 1, text: answer.text, charged: answer.payment.charged, cumulative: answer.payment.cumulative,
    verdict: (await client.verify(answer)).toString() }));
  const stream = client.chatStream(args.model, ask, options);
  const pieces = [];
  let step;
  while (!(step = await stream.next()).done) {
    pieces.push(step.value);
    process.stderr.write(step.value);
  }
  process.stderr.write('\n');
  const done = step.value;
  console.log(JSON.stringify({ call: 2, streamed: true, text: pieces.join(''), charged: done.payment.charged,
    cumulative: done.payment.cumulative, verdict: (await client.verify(done)).toString() }));
} finally {
  client.destroy();
}
