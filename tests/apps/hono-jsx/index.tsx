// Hono's JSX, as its docs show (https://hono.dev/docs/guides/jsx): a .tsx entry whose
// tsconfig.json names hono/jsx as the JSX import source, rendered to HTML by c.html and by the
// jsxRenderer middleware; an async component is awaited; and streamed with Suspense, as the
// docs' streaming example (hono/jsx/streaming) does.
import { Hono } from 'hono'
import type { FC } from 'hono/jsx'
import { jsxRenderer } from 'hono/jsx-renderer'
import { Suspense, renderToReadableStream } from 'hono/jsx/streaming'

const app = new Hono()

const Layout: FC = (props) => {
  return (
    <html>
      <body>{props.children}</body>
    </html>
  )
}

const Top: FC<{ messages: string[] }> = (props: { messages: string[] }) => {
  return (
    <Layout>
      <h1>Hello Hono!</h1>
      <ul>
        {props.messages.map((message) => {
          return <li>{message}!!</li>
        })}
      </ul>
    </Layout>
  )
}

const Later = async () => {
  await new Promise((resolve) => setTimeout(resolve, 5))
  return <p>loaded later</p>
}

app.get('/', (c) => {
  const messages = ['Good Morning', 'Good Evening', '<Good Night>']
  return c.html(<Top messages={messages} />)
})

app.get('/async', (c) => c.html(<div>{Later()}</div>))

app.use(
  '/page/*',
  jsxRenderer(({ children }) => {
    return (
      <html>
        <head>
          <title>Rendered</title>
        </head>
        <body>{children}</body>
      </html>
    )
  })
)

app.get('/page/about', (c) => c.render(<p class="about">About</p>))

const Slow = async () => {
  await new Promise((resolve) => setTimeout(resolve, 300))
  return <p>streamed later</p>
}

app.get('/stream', (c) => {
  const stream = renderToReadableStream(
    <html>
      <body>
        <Suspense fallback={<p>loading...</p>}>
          <Slow />
        </Suspense>
      </body>
    </html>
  )
  return c.body(stream, {
    headers: { 'Content-Type': 'text/html; charset=UTF-8', 'Transfer-Encoding': 'chunked' },
  })
})

export default app
