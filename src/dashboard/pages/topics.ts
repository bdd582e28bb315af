/** `/topics`: the topic catalogue with an example message of each (the same data as GET /api/v1/webhooks/topics). */
import type { FastifyInstance } from 'fastify';
import { exampleMessage, TEST_TOPIC, TOPICS } from '../../webhooks/topics.js';
import { render, type DashboardContext } from '../context.js';
import { html, path } from '../html.js';

export function registerTopicPages(app: FastifyInstance, ctx: DashboardContext): void {
  app.get('/topics', { schema: { hide: true } }, async (request, reply) => {
    const body = html`<h1>Topics</h1>
      <p>Each topic is an event a subscription can receive. Every message carries the order, as <code>GET /api/v1/orders/{id}</code> returns it, with the parts the subscription asked for (its expands).</p>
      <nav aria-label="Topics"><ul>${TOPICS.map((t) => html`<li><a href="#${t.name}">${t.name}</a></li>`)}</ul></nav>
      ${TOPICS.map((t) => html`<section aria-labelledby="${t.name}">
        <h2 id="${t.name}"><code>${t.name}</code></h2>
        <p>${t.description}</p>
        <p>Allowed expands: ${t.expands.map((e, i) => html`${i ? ', ' : ''}<code>${e}</code>`)}</p>
        <p><a href="${path('subscriptions', 'new', { topic: t.name })}">Subscribe to ${t.name}</a></p>
        <details><summary>Example message</summary><pre>${JSON.stringify(exampleMessage(t.name), null, 2)}</pre></details>
      </section>`)}
      <h2 id="${TEST_TOPIC}"><code>${TEST_TOPIC}</code></h2>
      <p>Sent only by “Send a test message” on a subscription's page (or <code>POST /api/v1/webhooks/{uuid}/test</code>); it cannot be subscribed to and is never retried.</p>`;
    return render(ctx, request, reply, { title: 'Topics', section: 'topics', body });
  });
}
