// React server rendering on Workers, as React's docs show it for Web Streams runtimes:
// renderToReadableStream (react-dom/server's edge build, which the workerd condition picks)
// sends the shell at once and each Suspense boundary when its data comes; `allReady` waits
// for all of it, as for crawlers; renderToString for a fragment.
import { Suspense, use } from 'react';
import { renderToReadableStream, renderToString } from 'react-dom/server';

function Comments({ comments }) {
  const list = use(comments);
  return (
    <ul>
      {list.map((c) => (
        <li key={c}>{c}</li>
      ))}
    </ul>
  );
}

function Page({ title, comments }) {
  return (
    <html lang="en">
      <head>
        <title>{title}</title>
      </head>
      <body>
        <h1>{title}</h1>
        <Suspense fallback={<p>Loading comments...</p>}>
          <Comments comments={comments} />
        </Suspense>
      </body>
    </html>
  );
}

const later = (ms, value) => new Promise((resolve) => setTimeout(() => resolve(value), ms));

export default {
  async fetch(request) {
    const url = new URL(request.url);
    const title = url.searchParams.get('title') ?? 'Post';
    if (url.pathname === '/fragment') {
      return new Response(renderToString(<p className="note">Hi {title}</p>), {
        headers: { 'content-type': 'text/html' },
      });
    }
    const delay = Number(url.searchParams.get('delay') ?? '0');
    const comments = later(delay, ['first!', `about ${title}`]);
    const errors = [];
    const stream = await renderToReadableStream(<Page title={title} comments={comments} />, {
      onError(error) {
        errors.push(error);
      },
    });
    if (url.pathname === '/crawler') await stream.allReady;
    return new Response(stream, { headers: { 'content-type': 'text/html; charset=utf-8' } });
  },
};
