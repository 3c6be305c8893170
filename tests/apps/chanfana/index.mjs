// An OpenAPI API with chanfana on Hono, as Cloudflare's chanfana template shows
// (https://github.com/cloudflare/chanfana/tree/main/template, its D1 store replaced by an array):
// class-based endpoints whose zod schemas validate the query, the path and the body, and the
// schema served at /openapi.json with Swagger UI at /docs and ReDoc at /redocs.
import { ApiException, contentJson, fromHono, NotFoundException, OpenAPIRoute } from 'chanfana'
import { Hono } from 'hono'
import { z } from 'zod'

const Task = z.object({
  name: z.string().min(1),
  slug: z.string().regex(/^[a-z0-9-]+$/),
  description: z.string().optional(),
  completed: z.boolean().default(false),
  due_date: z.iso.datetime(),
})

const tasks = [
  { name: 'Clean my room', slug: 'clean-room', completed: false, due_date: '2025-01-05T00:00:00Z' },
  { name: 'Build something awesome', slug: 'build', completed: true, due_date: '2025-02-01T00:00:00Z' },
]

class TaskList extends OpenAPIRoute {
  schema = {
    tags: ['Tasks'],
    summary: 'List Tasks',
    request: {
      query: z.object({
        page: z.coerce.number().int().min(0).default(0).describe('Page number'),
        isCompleted: z.coerce.boolean().optional().describe('Filter by completed flag'),
      }),
    },
    responses: {
      200: {
        description: 'Returns a list of tasks',
        ...contentJson(z.object({ success: z.boolean(), result: z.object({ tasks: Task.array() }) })),
      },
    },
  }

  async handle(c) {
    const data = await this.getValidatedData()
    const { page, isCompleted } = data.query
    const found = tasks.filter((t) => isCompleted === undefined || t.completed === isCompleted)
    return { success: true, page, result: { tasks: found } }
  }
}

class TaskCreate extends OpenAPIRoute {
  schema = {
    tags: ['Tasks'],
    summary: 'Create a new Task',
    request: { body: contentJson(Task) },
    responses: {
      200: {
        description: 'Returns the created task',
        ...contentJson(z.object({ success: z.boolean(), result: z.object({ task: Task }) })),
      },
    },
  }

  async handle(c) {
    const data = await this.getValidatedData()
    const task = data.body
    if (tasks.some((t) => t.slug === task.slug)) {
      throw new ApiException('a task with this slug exists')
    }
    return { success: true, result: { task } }
  }
}

class TaskFetch extends OpenAPIRoute {
  schema = {
    tags: ['Tasks'],
    summary: 'Get a single Task by slug',
    request: { params: z.object({ taskSlug: z.string().describe('Task slug') }) },
    responses: {
      200: {
        description: 'Returns a single task if found',
        ...contentJson(z.object({ success: z.boolean(), result: z.object({ task: Task }) })),
      },
      404: { description: 'Task not found' },
    },
  }

  async handle(c) {
    const data = await this.getValidatedData()
    const task = tasks.find((t) => t.slug === data.params.taskSlug)
    if (!task) throw new NotFoundException()
    return c.json({ success: true, result: { task } })
  }
}

const app = new Hono()
const openapi = fromHono(app, {
  schema: { info: { title: 'Tasks API', version: '2.0.0' } },
})
openapi.get('/api/tasks', TaskList)
openapi.post('/api/tasks', TaskCreate)
openapi.get('/api/tasks/:taskSlug', TaskFetch)

export default app
