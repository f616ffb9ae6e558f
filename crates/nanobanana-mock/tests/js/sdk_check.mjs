#!/usr/bin/env node
// Drive the fake server's Interactions API with the official JS SDK (@google/genai, from npm,
// unchanged): `ai.interactions` create with an inline image and with `delivery: uri` (the image
// downloaded from the server), a continuation with `previous_interaction_id` (and a
// `store: false` interaction refused as one), a stream resumed after an `event_id`, a background
// run polled to `completed`, cancel, delete, and a refused request.
//
// Usage: node sdk_check.mjs PATH/TO/nanobanana-mock PATH/TO/nanobanana-rules/data
//
// Run it from a directory where `@google/genai` resolves (CI copies it next to an `npm ci` of
// package.json and package-lock.json). Prints one line per scenario and `N passed, N failed`;
// exits 1 when any failed.

import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

import { GoogleGenAI } from '@google/genai';

const KEY = 'js-mock-check-key';
const MODEL = 'gemini-nano-banana-2.1';

const [, , binary, data] = process.argv;
if (!binary || !data) {
  console.log('usage: node sdk_check.mjs PATH/TO/nanobanana-mock PATH/TO/nanobanana-rules/data');
  process.exit(2);
}

// The pixel size of the model's table row (fixtures/models.json names the table it uses).
function expectedSize(model, ratio, size) {
  const models = JSON.parse(readFileSync(join(data, 'models.json'), 'utf8')).models;
  const tables = JSON.parse(readFileSync(join(data, 'resolution-tables.json'), 'utf8')).models;
  const table = models.find((m) => m.id === model).resolutionTable;
  const row = tables[table].aspect_ratios[ratio];
  const entry = row[size] ?? row;
  return [entry.width, entry.height];
}

function jpegSize(bytes) {
  if (bytes[0] !== 0xff || bytes[1] !== 0xd8) throw new Error('not a JPEG');
  let at = 2;
  while (at + 9 < bytes.length) {
    const marker = bytes[at + 1];
    const length = bytes.readUInt16BE(at + 2);
    if (marker >= 0xc0 && marker <= 0xc3) return [bytes.readUInt16BE(at + 7), bytes.readUInt16BE(at + 5)];
    at += 2 + length;
  }
  throw new Error('no JPEG frame header');
}

function check(condition, message) {
  if (!condition) throw new Error(message);
}

const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);

// What an SDK call that must fail threw (its status and message).
async function refusal(call) {
  try {
    await call();
  } catch (e) {
    return e;
  }
  throw new Error('the call was accepted');
}

// ---------------------------------------------------------------------------------------------
// scenarios

const IMAGE_16_9 = { type: 'image', aspect_ratio: '16:9', image_size: '1K', mime_type: 'image/jpeg' };

async function createInline(ai) {
  const interaction = await ai.interactions.create({ model: MODEL, input: 'A nano banana dish', response_format: IMAGE_16_9 });
  check(interaction.status === 'completed', `status ${interaction.status}`);
  check(same(interaction.steps.map((s) => s.type), ['thought', 'model_output']), 'steps');
  check(interaction.steps[0].signature, 'the thought step has no signature');
  const image = interaction.steps[1].content.find((c) => c.type === 'image');
  check(image.mime_type === 'image/jpeg', image.mime_type);
  const size = jpegSize(Buffer.from(image.data, 'base64'));
  check(same(size, expectedSize(MODEL, '16:9', '1K')), `size ${size}`);
  check(interaction.usage.total_tokens > 0, 'no usage');
}

async function createUri(ai, url) {
  const interaction = await ai.interactions.create({
    model: MODEL,
    input: 'A nano banana dish',
    response_format: { type: 'image', delivery: 'uri' },
  });
  const image = interaction.steps[1].content.find((c) => c.type === 'image');
  check(image.uri?.startsWith(url) && !image.data, `uri ${image.uri}`);
  const answer = await fetch(image.uri, { headers: { 'x-goog-api-key': KEY } });
  check(answer.headers.get('content-type') === 'image/jpeg', answer.headers.get('content-type'));
  check(same(jpegSize(Buffer.from(await answer.arrayBuffer())), [1024, 1024]), 'downloaded size');
}

async function continuation(ai) {
  const first = await ai.interactions.create({ model: MODEL, input: 'A nano banana dish', response_format: IMAGE_16_9 });
  const second = await ai.interactions.create({
    model: MODEL,
    input: 'Make the plate blue',
    previous_interaction_id: first.id,
    response_format: IMAGE_16_9,
  });
  check(second.status === 'completed' && second.previous_interaction_id === first.id, 'continuation');
  const timeline = await ai.interactions.get(second.id);
  check(same(timeline.steps.map((s) => s.type), ['user_input', 'thought', 'model_output']), 'timeline');
  const unstored = await ai.interactions.create({ model: MODEL, input: 'A nano banana dish', store: false });
  const e = await refusal(() =>
    ai.interactions.create({ model: MODEL, input: 'Make it blue', previous_interaction_id: unstored.id }),
  );
  check(e.status === 404 && e.message.includes(`Interaction ${unstored.id} was not found.`), e.message);
}

async function stream(ai) {
  const events = [];
  for await (const event of await ai.interactions.create({ model: MODEL, input: 'A nano banana dish', stream: true })) {
    events.push(event);
  }
  const kinds = events.map((e) => e.event_type);
  check(kinds[0] === 'interaction.created' && kinds.at(-1) === 'interaction.completed', kinds.join());
  const ids = events.map((e) => e.event_id);
  check(ids.every(Boolean) && new Set(ids).size === ids.length, ids.join());
  const images = events.filter((e) => e.event_type === 'step.delta' && e.delta.type === 'image');
  check(images.length === 1, 'one image delta');
  check(same(jpegSize(Buffer.from(images[0].delta.data, 'base64')), [1024, 1024]), 'image size');
  const resumed = [];
  const id = events[0].interaction.id;
  for await (const event of await ai.interactions.get(id, { stream: true, last_event_id: ids[4] })) {
    resumed.push(event.event_id);
  }
  check(same(resumed, ids.slice(5)), `resumed ${resumed}`);
}

async function background(ai) {
  const started = await ai.interactions.create({ model: MODEL, input: 'A nano banana dish', background: true });
  check(started.status === 'in_progress' && !started.steps?.length, 'started');
  const statuses = [(await ai.interactions.get(started.id)).status, (await ai.interactions.get(started.id)).status];
  check(same(statuses, ['in_progress', 'completed']), statuses.join());
}

async function cancelAndDelete(ai) {
  const started = await ai.interactions.create({ model: MODEL, input: 'A nano banana dish', background: true });
  check((await ai.interactions.cancel(started.id)).status === 'cancelled', 'cancel');
  const again = await refusal(() => ai.interactions.cancel(started.id));
  check(again.status === 400 && again.message.includes('is already cancelled and cannot be cancelled.'), again.message);
  await ai.interactions.delete(started.id);
  const gone = await refusal(() => ai.interactions.get(started.id));
  check(gone.status === 404 && gone.message.includes('was not found.'), gone.message);
}

async function refused(ai) {
  const e = await refusal(() =>
    ai.interactions.create({ model: MODEL, input: 'A nano banana dish', response_format: { type: 'image', image_size: '512' } }),
  );
  check(e.status === 400, `status ${e.status}`);
  check(e.message.includes(`Unsupported image size "512" for model ${MODEL}. Allowed: 1K, 2K, 4K.`), e.message);
}

// ---------------------------------------------------------------------------------------------
// the server

function start() {
  return new Promise((resolve, reject) => {
    const server = spawn(binary, ['--quiet', '--api-key', KEY], { stdio: ['ignore', 'pipe', 'inherit'] });
    const lines = createInterface({ input: server.stdout });
    lines.once('line', (line) => {
      const prefix = 'listening on ';
      if (!line.startsWith(prefix)) {
        server.kill();
        reject(new Error(`unexpected first line from the server: ${line}`));
      } else {
        resolve({ server, url: line.slice(prefix.length) });
      }
    });
    server.once('error', reject);
  });
}

const { server, url } = await start();
const ai = new GoogleGenAI({ apiKey: KEY, httpOptions: { baseUrl: url } });
const scenarios = [
  ['interactions: create with an inline image', () => createInline(ai)],
  ['interactions: delivery uri, downloaded from the server', () => createUri(ai, url)],
  ['interactions: previous_interaction_id, store: false refused', () => continuation(ai)],
  ['interactions: stream, resumed after an event id', () => stream(ai)],
  ['interactions: background run polled to completed', () => background(ai)],
  ['interactions: cancel, second cancel refused, delete', () => cancelAndDelete(ai)],
  ['interactions: 512 refused with the house text', () => refused(ai)],
];
let passed = 0;
let failed = 0;
for (const [name, run] of scenarios) {
  try {
    await run();
    passed += 1;
    console.log(`ok   ${name}`);
  } catch (e) {
    failed += 1;
    console.log(`FAIL ${name}\n     ${e.stack ?? e}`);
  }
}
server.kill();
console.log(`@google/genai: ${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
