// Preact rendered on Workers with preact-render-to-string, as its docs show: `render` to a
// string, `renderToStringAsync` awaiting lazy components, and the streaming renderer.
import { render, renderToStringAsync } from 'preact-render-to-string';
import { renderToReadableStream } from 'preact-render-to-string/stream';
import { Suspense, lazy } from 'preact/compat';
import { useState } from 'preact/hooks';

function Counter({ start }) {
  const [count] = useState(start);
  return <button data-count={count}>Count: {count}</button>;
}

const later = (ms) =>
  new Promise((resolve) =>
    setTimeout(() => resolve({ default: ({ who }) => <p>Lazy {who}</p> }), ms)
  );

const Page = ({ name }) => (
  <html>
    <head>
      <title>{`Hi ${name}`}</title>
    </head>
    <body>
      <h1 class="title">Hello {name}</h1>
      <Counter start={3} />
      <ul>
        {['a', 'b'].map((item) => (
          <li key={item}>{item}</li>
        ))}
      </ul>
      <div dangerouslySetInnerHTML={{ __html: '<b>raw</b>' }} />
      <p style={{ color: 'red', fontSize: 12 }}>{'<script>'}</p>
    </body>
  </html>
);

export default {
  async fetch(request) {
    const url = new URL(request.url);
    const name = url.searchParams.get('name') ?? 'world';
    const headers = { 'content-type': 'text/html;charset=utf-8' };
    if (url.pathname === '/async') {
      const Later = lazy(() => later(10));
      const html = await renderToStringAsync(
        <Suspense fallback="...">
          <Later who={name} />
        </Suspense>
      );
      return new Response(html, { headers });
    }
    if (url.pathname === '/stream') {
      const Later = lazy(() => later(100));
      const stream = renderToReadableStream(
        <div>
          <Suspense fallback={<i>wait</i>}>
            <Later who={name} />
          </Suspense>
        </div>
      );
      return new Response(stream, { headers });
    }
    return new Response('<!doctype html>' + render(<Page name={name} />), { headers });
  },
};
