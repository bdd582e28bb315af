/**
 * The API ceiling: a minimal Fastify app on the same machine, answering the same routes with the
 * same response bytes storehook produced (captured once), with no auth, validation, database or
 * rendering. POST parses the JSON body (Fastify's default parser), GET sends the stored page.
 */
import Fastify from 'fastify';
import { serveIpc } from '../lib/ipc.js';

serveIpc({
  start: async (p) => {
    const { postBody, getBody } = p as { postBody: string; getBody: string };
    const app = Fastify({ logger: false, bodyLimit: 1024 * 1024 });
    app.post('/api/v1/orders', async (request, reply) => {
      if (typeof request.body !== 'object' || request.body === null) return reply.code(400).send({ error: 'body' });
      return reply.type('application/json; charset=utf-8').send(postBody);
    });
    app.get('/api/v1/orders', async (_request, reply) => reply.type('application/json; charset=utf-8').send(getBody));
    await app.listen({ port: 0, host: '127.0.0.1' });
    const address = app.server.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    return { url: `http://127.0.0.1:${port}` };
  },
});
