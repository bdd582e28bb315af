/** `/topics`: the topic catalogue with an example message of each (the same data as GET /api/v1/webhooks/topics). */
import type { FastifyInstance } from 'fastify';
import { exampleMessage, TEST_TOPIC, TOPICS, type TopicResource } from '../../webhooks/topics.js';
import { render, type DashboardContext } from '../context.js';
import { html, path } from '../html.js';

/** What a topic's messages carry in `data`, named as the API's GET of one. */
const RESOURCE: Record<TopicResource, { name: string; get: string }> = {
  order: { name: 'the order', get: 'GET /api/v1/orders/{id}' },
  product: { name: 'the product', get: 'GET /api/v1/products/{id}' },
  stock_item: { name: 'the stock item', get: 'GET /api/v1/stock-items/{id}' },
  customer: { name: 'the customer', get: 'GET /api/v1/customers/{id}' },
  subscription_health: { name: "the health of another of the store's subscriptions (never its uuid)", get: 'GET /api/v1/webhooks/{uuid}' },
};

export function registerTopicPages(app: FastifyInstance, ctx: DashboardContext): void {
  app.get('/topics', { schema: { hide: true } }, async (request, reply) => {
    const body = html`<h1>Topics</h1>
      <p>Each topic is an event a subscription can receive. Every message carries the resource it is about (an order, a product, a stock item or a customer) as the API's <code>GET</code> of it returns it, with the parts the subscription asked for (its expands).</p>
      <nav aria-label="Topics"><ul>${TOPICS.map((t) => html`<li><a href="#${t.name}">${t.name}</a></li>`)}</ul></nav>
      ${TOPICS.map((t) => html`<section aria-labelledby="${t.name}">
        <h2 id="${t.name}"><code>${t.name}</code></h2>
        <p>${t.description}</p>
        <p>Carries ${RESOURCE[t.resource].name}, as <code>${RESOURCE[t.resource].get}</code> returns it.</p>
        <p>Allowed expands: ${t.expands.length === 0 ? "none" : ""}${t.expands.map((e, i) => html`${i ? ', ' : ''}<code>${e}</code>`)}</p>
        <p><a href="${path('subscriptions', 'new', { topic: t.name })}">Subscribe to ${t.name}</a></p>
        <details><summary>Example message</summary><pre>${JSON.stringify(exampleMessage(t.name), null, 2)}</pre></details>
      </section>`)}
      <h2 id="${TEST_TOPIC}"><code>${TEST_TOPIC}</code></h2>
      <p>Sent only by “Send a test message” on a subscription's page (or <code>POST /api/v1/webhooks/{uuid}/test</code>); it cannot be subscribed to and is never retried.</p>`;
    return render(ctx, request, reply, { title: 'Topics', section: 'topics', body });
  });
}
