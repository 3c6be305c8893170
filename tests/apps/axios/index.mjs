// axios in a Worker, as its docs show for fetch runtimes: an instance with a base URL and the
// fetch adapter, JSON in and out, an HTTP error as an AxiosError, and the default export.
import axios from 'axios';

export default {
  async fetch(request, env) {
    const api = axios.create({ baseURL: env.API_URL, adapter: 'fetch', headers: { 'x-app': 'vortex' } });
    const made = await api.post('/items', { name: 'kettle' });
    let missing = null;
    try {
      await api.get('/items/404');
    } catch (e) {
      missing = { name: e.name, status: e.response.status, body: e.response.data, isAxiosError: axios.isAxiosError(e) };
    }
    const listed = await axios.get(`${env.API_URL}/items`, { params: { limit: 2 } });
    return Response.json({ status: made.status, made: made.data, missing, listed: listed.data });
  },
};
