// Talks to a running `gearbox serve` with the official openai npm package and prints one JSON
// object with what it saw. Usage: node client.mjs http://127.0.0.1:PORT/v1 [user-shaped]
// With OPENAI_API_KEY set (a server started with --api-key), it is sent as the client sends keys
// (Authorization: Bearer), and a wrong key is tried too.
// The default run suits the default ladder (models/); `user-shaped` runs instruct-style requests
// (system + user chat, tools, json_schema) for a ladder with a real chat template
// (dev.gearbox.server.UserShapedLadders), each case on its own: a rejected one records its error.
import OpenAI from 'openai';

const baseURL = process.argv[2];
if (!baseURL) {
  console.error('usage: node client.mjs BASE_URL [user-shaped]   (e.g. http://127.0.0.1:8080/v1)');
  process.exit(2);
}
const apiKey = process.env.OPENAI_API_KEY || 'none';
const client = new OpenAI({ baseURL, apiKey, maxRetries: 0, timeout: 120_000 });

if (process.argv[3] === 'user-shaped') {
  console.log(JSON.stringify(await userShaped()));
  process.exit(0);
}
const prompt = 'add:12+34=';
const out = {};

const models = await client.models.list();
out.models = models.data.map((m) => m.id);

{
  const { data, response } = await client.chat.completions
    .create({ model: 'auto', messages: [{ role: 'user', content: prompt }], temperature: 0, max_tokens: 8 })
    .withResponse();
  out.chat = {
    content: data.choices[0].message.content,
    role: data.choices[0].message.role,
    finish_reason: data.choices[0].finish_reason,
    usage: data.usage,
    gearbox: data.gearbox,
    header_tier: response.headers.get('x-gearbox-tier'),
  };
}

{
  const { data: stream, response } = await client.chat.completions
    .create({ model: 'l', messages: [{ role: 'user', content: prompt }], temperature: 0, stream: true,
              stream_options: { include_usage: true } })
    .withResponse();
  let content = '', finish = null, usage = null, chunks = 0;
  for await (const chunk of stream) {
    chunks++;
    if (chunk.usage) usage = chunk.usage;
    for (const c of chunk.choices) {
      if (c.delta?.content) content += c.delta.content;
      if (c.finish_reason) finish = c.finish_reason;
    }
  }
  out.chat_stream = { content, finish_reason: finish, usage, chunks, header_tier: response.headers.get('x-gearbox-tier') };
}

{
  const data = await client.completions.create({ model: 'l', prompt, temperature: 0, max_tokens: 8, stop: ['\n'] });
  out.completion = { text: data.choices[0].text, finish_reason: data.choices[0].finish_reason, usage: data.usage };
}

{
  const stream = await client.completions.create({ model: 'auto', prompt, temperature: 0, stream: true });
  let text = '', finish = null, chunks = 0;
  for await (const chunk of stream) {
    chunks++;
    for (const c of chunk.choices) {
      text += c.text ?? '';
      if (c.finish_reason) finish = c.finish_reason;
    }
  }
  out.completion_stream = { text, finish_reason: finish, chunks };
}

try {
  await client.chat.completions.create({ model: 'no-such-tier', messages: [{ role: 'user', content: prompt }] });
  out.unknown_model = { status: null };
} catch (e) {
  out.unknown_model = { status: e.status, code: e.code, type: e.type, is_not_found: e instanceof OpenAI.NotFoundError };
}

{
  const m = await client.models.retrieve('l');
  out.model_l = { id: m.id, object: m.object };
}

try {
  await client.completions.create({ model: 'l', prompt: '1'.repeat(400), max_tokens: 4 });
  out.too_long = { status: null };
} catch (e) {
  out.too_long = { status: e.status, code: e.code, param: e.param, is_bad_request: e instanceof OpenAI.BadRequestError };
}

if (process.env.OPENAI_API_KEY) {
  const wrong = new OpenAI({ baseURL, apiKey: 'not-the-key', maxRetries: 0, timeout: 30_000 });
  try {
    await wrong.models.list();
    out.wrong_key = { status: null };
  } catch (e) {
    out.wrong_key = { status: e.status, code: e.code, is_authentication: e instanceof OpenAI.AuthenticationError };
  }
}

console.log(JSON.stringify(out));

async function userShaped() {
  const res = {};
  const run = async (name, fn) => {
    try {
      res[name] = await fn();
    } catch (e) {
      res[name] = { error: `${e?.constructor?.name}: ${e?.message}`, status: e?.status ?? null };
    }
  };
  const choice = (c) => ({
    index: c.index, role: c.message.role, content: c.message.content, finish_reason: c.finish_reason,
    tool_calls: (c.message.tool_calls ?? []).map((t) => ({ id: t.id, type: t.type, name: t.function.name, arguments: t.function.arguments })),
  });
  const messages = [
    { role: 'system', content: 'You are a helpful assistant. Answer in one word.' },
    { role: 'user', content: 'What is the capital of France?' },
  ];
  const tools = [{
    type: 'function',
    function: {
      name: 'get_weather',
      description: 'Current weather in a city',
      parameters: {
        type: 'object',
        properties: { city: { type: 'string', enum: ['Paris', 'Tokyo'] }, unit: { type: 'string', enum: ['c', 'f'] } },
        required: ['city', 'unit'],
        additionalProperties: false,
      },
    },
  }];
  const schema = {
    type: 'object',
    properties: { answer: { type: 'string', enum: ['yes', 'no'] }, confident: { type: 'boolean' } },
    required: ['answer', 'confident'],
    additionalProperties: false,
  };

  await run('chat', async () => {
    const { data, response } = await client.chat.completions
      .create({ model: 'auto', messages, temperature: 0 }).withResponse();
    return { sent: { messages }, choices: data.choices.map(choice), usage: data.usage, header_tier: response.headers.get('x-gearbox-tier') };
  });
  await run('chat_stream', async () => {
    const stream = await client.chat.completions.create({ model: 'l', messages, temperature: 0, max_tokens: 8, stream: true,
      stream_options: { include_usage: true } });
    let content = '', finish = null, usage = null;
    for await (const chunk of stream) {
      if (chunk.usage) usage = chunk.usage;
      for (const c of chunk.choices) {
        if (c.delta?.content) content += c.delta.content;
        if (c.finish_reason) finish = c.finish_reason;
      }
    }
    return { sent: { messages }, content, finish_reason: finish, usage };
  });
  const toolMessages = [{ role: 'user', content: 'What is the weather in Paris?' }];
  await run('tools_required', async () => {
    const data = await client.chat.completions.create({ model: 'l', messages: toolMessages, tools, tool_choice: 'required',
      temperature: 0, max_tokens: 64 });
    return { sent: { messages: toolMessages, tools }, choices: data.choices.map(choice), usage: data.usage };
  });
  const jsonMessages = [{ role: 'system', content: 'Reply in JSON.' }, { role: 'user', content: 'Is Paris in France?' }];
  await run('json_schema', async () => {
    const data = await client.chat.completions.create({ model: 'l', messages: jsonMessages, temperature: 0, max_tokens: 64,
      response_format: { type: 'json_schema', json_schema: { name: 'answer', strict: true, schema } } });
    return { sent: { messages: jsonMessages }, choices: data.choices.map(choice), usage: data.usage };
  });
  return res;
}
