#!/usr/bin/env node
// Drive the official JS SDK (@google/genai, from npm, unchanged) through scripted cases of the
// conformance vectors, each served by `nanobanana-conformance serve --case ID` (the fake server
// replaying that one case), and hold what the SDK returns to the case's `expect` block: the
// decoded images and their pixel sizes, the signature verdict (SPEC.md section 4), the finish
// reason, grounding facts, and for errors the HTTP status, error status and message.
//
// Usage: node sdk_check.mjs PATH/TO/nanobanana-conformance PATH/TO/fixtures
//
// Run it from a directory where `@google/genai` resolves (CI copies it next to an `npm ci` of
// package.json and package-lock.json). Prints one line per scenario and `N passed, N failed`;
// exits 1 when any failed.

import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

import { GoogleGenAI } from '@google/genai';

const KEY = 'js-sdk-check-key';

const [, , binary, fixtures] = process.argv;
if (!binary || !fixtures) {
  console.log('usage: node sdk_check.mjs PATH/TO/nanobanana-conformance PATH/TO/fixtures');
  process.exit(2);
}

// ---------------------------------------------------------------------------------------------
// the vectors

function expandBlobs(value) {
  if (Array.isArray(value)) return value.map(expandBlobs);
  if (value && typeof value === 'object') {
    const keys = Object.keys(value);
    if (keys.length === 1 && keys[0] === '$blob') {
      const hex = value.$blob.split('/')[1];
      return readFileSync(join(fixtures, 'blobs', 'sha256', hex)).toString('base64');
    }
    return Object.fromEntries(keys.map((k) => [k, expandBlobs(value[k])]));
  }
  return value;
}

function loadCase(id) {
  return expandBlobs(JSON.parse(readFileSync(join(fixtures, 'cases', `${id}.json`), 'utf8')));
}

const camel = (name) => name.replace(/_([a-z])/g, (_, c) => c.toUpperCase());

// Keys in camelCase, as the SDK's types spell them (docs cases keep the guide's snake_case).
function toCamel(value) {
  if (Array.isArray(value)) return value.map(toCamel);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [camel(k), toCamel(v)]));
  }
  return value;
}

function modelOf(path) {
  return path.match(/\/models\/([^/:]+):/)[1];
}

// The SDK's arguments for a recorded generateContent body.
function callOf(interaction) {
  const body = toCamel(interaction.request.body);
  const config = { ...(body.generationConfig ?? {}) };
  for (const key of ['tools', 'systemInstruction', 'safetySettings', 'toolConfig', 'serviceTier', 'store']) {
    if (body[key] !== undefined) config[key] = body[key];
  }
  // Always given, even empty: the SDK then sends `generationConfig: {}`, which the fake server's
  // replay matches to a recording without one, as the service treats them alike.
  return { model: modelOf(interaction.request.path), contents: body.contents, config };
}

// ---------------------------------------------------------------------------------------------
// what a caller observes

function sniff(bytes) {
  if (bytes.length >= 24 && bytes.subarray(1, 4).toString('latin1') === 'PNG') {
    return ['image/png', bytes.readUInt32BE(16), bytes.readUInt32BE(20)];
  }
  if (bytes[0] === 0xff && bytes[1] === 0xd8) {
    let i = 2;
    while (i + 9 <= bytes.length && bytes[i] === 0xff) {
      const marker = bytes[i + 1];
      if (marker === 0xc0 || marker === 0xc1 || marker === 0xc2) {
        return ['image/jpeg', bytes.readUInt16BE(i + 7), bytes.readUInt16BE(i + 5)];
      }
      i += 2 + bytes.readUInt16BE(i + 2);
    }
  }
  return null;
}

function signatureFindings(parts) {
  const out = [];
  const signed = (p) => p.thoughtSignature !== undefined && p.thoughtSignature !== null;
  const first = parts.findIndex((p) => !p.thought);
  parts.forEach((p, i) => {
    if (p.thought) {
      if (signed(p)) out.push(`response-thought-unsigned@${i}`);
      return;
    }
    if (p.inlineData && !signed(p)) out.push(`response-image-signed@${i}`);
    if (i === first && !signed(p)) out.push(`response-first-part-signed@${i}`);
    if (p.text !== undefined && i > first && signed(p)) out.push(`response-later-text-unsigned@${i}`);
  });
  return out.sort();
}

// Facts of candidate 0 over one or more responses (stream chunks are concatenated).
function observe(responses) {
  const parts = [];
  let finishReason;
  let grounding;
  for (const r of responses) {
    const candidate = r?.candidates?.[0];
    parts.push(...(candidate?.content?.parts ?? []));
    if (candidate?.finishReason !== undefined) finishReason = candidate.finishReason;
    if (candidate?.groundingMetadata !== undefined) grounding = candidate.groundingMetadata;
  }
  const images = [];
  for (const p of parts) {
    if (!p.inlineData) continue;
    const info = sniff(Buffer.from(p.inlineData.data, 'base64'));
    if (!info) throw new Error(`an inlineData part does not decode to PNG or JPEG`);
    images.push({ kind: p.thought ? 'thought' : 'final', width: info[1], height: info[2], mimeType: info[0] });
  }
  const facts = { images, signatures: signatureFindings(parts), finishReason };
  if (grounding) {
    const chunks = grounding.groundingChunks ?? [];
    facts.grounding = {
      webChunks: chunks.filter((c) => c.web).length,
      imageChunks: chunks.filter((c) => c.image).length,
      supports: (grounding.groundingSupports ?? []).length,
      searchEntryPoint: Boolean(grounding.searchEntryPoint?.renderedContent),
    };
    if (grounding.webSearchQueries?.length) facts.grounding.webSearchQueries = grounding.webSearchQueries;
    if (grounding.imageSearchQueries?.length) facts.grounding.imageSearchQueries = grounding.imageSearchQueries;
  }
  facts.blocked = Boolean(responses[0]?.promptFeedback?.blockReason) && !responses[0]?.candidates?.length;
  return facts;
}

const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);

function check(expect, facts, interaction = 0) {
  const problems = [];
  if (!same(facts.images, expect.images ?? [])) {
    problems.push(`images ${JSON.stringify(facts.images)}, expected ${JSON.stringify(expect.images ?? [])}`);
  }
  const wantSignatures = (expect.signatures?.violations ?? [])
    .filter((v) => (v.interaction ?? 0) === interaction)
    .map((v) => `${v.rule}@${v.part}`)
    .sort();
  if (!same(facts.signatures, wantSignatures)) {
    problems.push(`signature findings ${facts.signatures}, expected ${wantSignatures}`);
  }
  if (expect.finishReason !== undefined && facts.finishReason !== expect.finishReason) {
    problems.push(`finishReason ${facts.finishReason}, expected ${expect.finishReason}`);
  }
  if (!same(facts.grounding, expect.grounding)) {
    problems.push(`grounding ${JSON.stringify(facts.grounding)}, expected ${JSON.stringify(expect.grounding)}`);
  }
  if ((expect.outcome === 'blocked-prompt') !== facts.blocked) {
    problems.push(`blocked ${facts.blocked}, expected outcome ${expect.outcome}`);
  }
  if (problems.length) throw new Error(problems.join('; '));
}

// The error an ApiError carries: its message is the JSON error body (after a prefix for stream
// errors).
function errorFacts(e) {
  if (e?.name !== 'ApiError') throw e;
  const text = e.message.slice(e.message.search(/[[{]/));
  let body = JSON.parse(text);
  if (Array.isArray(body)) body = body[0];
  return { httpStatus: e.status, code: body.error.code, status: body.error.status, message: body.error.message };
}

function checkError(expect, e) {
  const got = errorFacts(e);
  const want = expect.error;
  const problems = [];
  if (expect.status !== 200 && got.httpStatus !== expect.status) problems.push(`HTTP ${got.httpStatus}, expected ${expect.status}`);
  for (const k of ['code', 'status', 'message']) {
    if (want[k] !== undefined && got[k] !== want[k]) problems.push(`error ${k} ${JSON.stringify(got[k])}, expected ${JSON.stringify(want[k])}`);
  }
  if (problems.length) throw new Error(problems.join('; '));
}

async function expectError(expect, run) {
  try {
    await run();
  } catch (e) {
    checkError(expect, e);
    return;
  }
  throw new Error(`no error, expected ${expect.error.status} ${JSON.stringify(expect.error.message)}`);
}

// ---------------------------------------------------------------------------------------------
// the server of one case

async function serve(id) {
  const child = spawn(binary, ['serve', '--quiet', '--api-key', KEY, '--fixtures', fixtures, '--case', id], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout });
  const first = await new Promise((resolve, reject) => {
    lines.once('line', resolve);
    child.once('exit', (code) => reject(new Error(`serve exited with ${code}`)));
  });
  lines.close();
  const prefix = 'listening on ';
  if (!first.startsWith(prefix)) throw new Error(`unexpected first line from serve: ${first}`);
  return { url: first.slice(prefix.length), stop: () => child.kill() };
}

const sdk = (url, apiKey = KEY) => new GoogleGenAI({ apiKey, httpOptions: { baseUrl: url } });

// ---------------------------------------------------------------------------------------------
// scenarios: (label, case id, run(case, url))

// Every interaction through models.generateContent; intermediate answers are held to the
// recorded ones, the last to `expect`.
async function generateEach(kase, url) {
  const ai = sdk(url);
  const last = kase.interactions.length - 1;
  for (const [i, interaction] of kase.interactions.entries()) {
    const response = await ai.models.generateContent(callOf(interaction));
    if (i === last) {
      check(kase.expect, observe([response]), i);
    } else {
      const recorded = observe([interaction.response.body]);
      const got = observe([response]);
      if (!same(got.images, recorded.images)) {
        throw new Error(`interaction ${i}: images ${JSON.stringify(got.images)}, recorded ${JSON.stringify(recorded.images)}`);
      }
    }
  }
}

async function stream(kase, url) {
  const chunks = [];
  for await (const chunk of await sdk(url).models.generateContentStream(callOf(kase.interactions[0]))) {
    chunks.push(chunk);
  }
  if (chunks.length < 2) throw new Error(`expected several chunks, got ${chunks.length}`);
  check(kase.expect, observe(chunks));
}

// A chat: the SDK keeps the history and sends the model's turns back itself (signatures
// included); each turn's config is the recorded request's.
async function chat(kase, url) {
  const first = callOf(kase.interactions[0]);
  const session = sdk(url).chats.create({ model: first.model, config: first.config });
  let response;
  for (const interaction of kase.interactions) {
    const call = callOf(interaction);
    const message = call.contents.at(-1).parts;
    response = await session.sendMessage({ message, config: call.config });
  }
  check(kase.expect, observe([response]), kase.interactions.length - 1);
}

async function refused(kase, url) {
  await expectError(kase.expect, () => sdk(url).models.generateContent(callOf(kase.interactions[0])));
}

async function wrongKey(kase, url) {
  await expectError(kase.expect, () =>
    sdk(url, 'not-the-key').models.generateContent(callOf(kase.interactions[0])),
  );
}

async function streamError(kase, url) {
  await expectError(kase.expect, async () => {
    for await (const _ of await sdk(url).models.generateContentStream(callOf(kase.interactions[0]))) {
      // the error event comes after the first chunks
    }
  });
}

const SCENARIOS = [
  ['text-to-image (3:2, 2K)', 'generate/text-to-image-pro', generateEach],
  ['image config: every aspect ratio of 2.5 Flash', 'sizes/flash25-all-ratios', generateEach],
  ['edit a PNG', 'edit/cat-photo-png', generateEach],
  ['edit a JPEG (guide example)', 'edit/cat-photo-jpeg-docs', generateEach],
  ['two-turn chat with signatures sent back', 'chat/photosynthesis-two-turns', chat],
  ['streaming: text chunks, then the image', 'stream/text-chunks-then-image', stream],
  ['grounding with Google Search', 'grounding/weather-web-search-docs', generateEach],
  ['grounding with image search', 'grounding/image-search-butterfly-docs', generateEach],
  ['three thought images', 'thinking/three-thought-images-macarons-docs', generateEach],
  ['blocked prompt', 'outcomes/blocked-prompt', generateEach],
  ['lower-case 1k refused with 400', 'validation/image-size-lowercase-1k', refused],
  ['roles not alternating refused with 400', 'validation/roles-not-alternating', refused],
  ['2.1 answers JPEG; serviceTier, store, an https fileUri', 'generate/banana21-jpeg-with-2026-sdk-fields', generateEach],
  ['shut-down preview id: 404 NOT_FOUND', 'validation/shut-down-model-404', refused],
  ['2K on 3.1 Flash Lite refused with 400', 'validation/image-size-2k-on-lite', refused],
  ['a part without data refused with 400', 'validation/part-without-data', refused],
  ['503 model overloaded', 'errors/model-overloaded', refused],
  ['429 quota exhausted', 'errors/quota-exhausted', refused],
  ['wrong API key', 'errors/invalid-api-key', wrongKey],
  ['error in the middle of a stream', 'stream/error-mid-stream', streamError],
];

let passed = 0;
let failed = 0;
for (const [label, id, run] of SCENARIOS) {
  let server;
  try {
    const kase = loadCase(id);
    server = await serve(id);
    await run(kase, server.url);
    passed += 1;
    console.log(`ok   ${label} (${id})`);
  } catch (e) {
    failed += 1;
    console.log(`FAIL ${label} (${id}): ${e?.message ?? e}`);
  } finally {
    server?.stop();
  }
}
let version = 'unknown';
try {
  const here = new URL('.', import.meta.url);
  version = JSON.parse(readFileSync(new URL('node_modules/@google/genai/package.json', here), 'utf8')).version;
} catch {
  // the version is only informative
}
console.log(`@google/genai ${version}`);
console.log(`js-sdk: ${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
