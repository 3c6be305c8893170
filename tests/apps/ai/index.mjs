// Language models called from a Worker, as the docs of OpenAI's SDK and of the AI SDK show it
// for Workers: a completion, a stream passed through and iterated, the AI SDK's generateText,
// and streamText answered as text and as the UI message stream its React hooks read. The
// model is the OpenAI-compatible API at OPENAI_BASE_URL.
import { createOpenAI } from '@ai-sdk/openai';
import { generateText, streamText } from 'ai';
import OpenAI from 'openai';

const messages = [{ role: 'user', content: 'Say hello' }];

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const client = new OpenAI({ apiKey: env.OPENAI_API_KEY, baseURL: env.OPENAI_BASE_URL });
    const openai = createOpenAI({ apiKey: env.OPENAI_API_KEY, baseURL: env.OPENAI_BASE_URL });
    try {
      switch (url.pathname) {
        case '/openai/complete': {
          const completion = await client.chat.completions.create({ model: 'gpt-4o-mini', messages });
          return Response.json({ text: completion.choices[0].message.content, usage: completion.usage });
        }
        case '/openai/stream': {
          const stream = await client.chat.completions.create({ model: 'gpt-4o-mini', messages, stream: true });
          return new Response(stream.toReadableStream(), {
            headers: { 'content-type': 'application/x-ndjson' },
          });
        }
        case '/openai/iterate': {
          const stream = await client.chat.completions.create({ model: 'gpt-4o-mini', messages, stream: true });
          const parts = [];
          for await (const chunk of stream) parts.push(chunk.choices[0]?.delta?.content ?? '');
          return Response.json({ parts });
        }
        case '/ai/generate': {
          const { text, usage, finishReason } = await generateText({
            model: openai.chat('gpt-4o-mini'),
            prompt: 'Say hello',
          });
          return Response.json({ text, finishReason, outputTokens: usage.outputTokens });
        }
        case '/ai/text':
          return streamText({ model: openai.chat('gpt-4o-mini'), prompt: 'Say hello' }).toTextStreamResponse();
        case '/ai/ui':
          return streamText({ model: openai.chat('gpt-4o-mini'), messages }).toUIMessageStreamResponse();
        case '/ai/iterate': {
          const result = streamText({ model: openai.chat('gpt-4o-mini'), prompt: 'Say hello' });
          const parts = [];
          for await (const part of result.textStream) parts.push(part);
          return Response.json({ parts });
        }
      }
    } catch (e) {
      return Response.json({ name: e.name, message: e.message }, { status: 500 });
    }
    return new Response('no route', { status: 404 });
  },
};
