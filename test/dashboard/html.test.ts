// The dashboard's building blocks: the escaping `html` template, same-origin paths, time zones.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { escapeHtml, html, join, path, trusted } from '../../src/dashboard/html.js';
import { CONTENT_SECURITY_POLICY, page } from '../../src/dashboard/layout.js';
import { safeNext } from '../../src/dashboard/plugin.js';
import { formatDuration, formatLocal, LOCAL_INPUT_PATTERN, parseLocalInput, timeTag, toLocalInput } from '../../src/dashboard/time.js';

describe('html template', () => {
  it('escapes every interpolated value', () => {
    const evil = `<script>alert("x")</script>'&\``;
    assert.equal(html`<p title="${evil}">${evil}</p>`.value, `<p title="&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&#39;&amp;&#96;">&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&#39;&amp;&#96;</p>`);
    assert.equal(escapeHtml('a<b>&"\''), 'a&lt;b&gt;&amp;&quot;&#39;');
  });

  it('nests templates and joins arrays without escaping them twice', () => {
    const items = ['<a>', 'b&c'];
    assert.equal(html`<ul>${items.map((i) => html`<li>${i}</li>`)}</ul>`.value, '<ul><li>&lt;a&gt;</li><li>b&amp;c</li></ul>');
    assert.equal(join(['<x>', html`<br>`], ', ').value, '&lt;x&gt;, <br>');
    assert.equal(html`${trusted('<b>')}${null}${undefined}${false}${0}`.value, '<b>0');
  });

  it('builds same-origin paths from encoded segments', () => {
    assert.equal(path('subscriptions', 'a/b?c', 'messages', 'msg_1'), '/subscriptions/a%2Fb%3Fc/messages/msg_1');
    assert.equal(path('orders', { status: 'open', page: undefined, q: '<x>&' }), '/orders?status=open&q=%3Cx%3E%26');
  });

  it('only redirects to local paths after sign-in', () => {
    assert.equal(safeNext('/subscriptions?status=failed'), '/subscriptions?status=failed');
    for (const bad of ['//evil.example/', '/\\evil.example', 'https://evil.example/', 'javascript:alert(1)', '/sign-in', '', undefined, '/a\nb']) assert.equal(safeNext(bad), '/', String(bad));
  });

  it('frames pages with a policy that forbids scripts and allows only its own style sheet', () => {
    assert.match(CONTENT_SECURITY_POLICY, /default-src 'none'/);
    assert.doesNotMatch(CONTENT_SECURITY_POLICY, /script-src|unsafe-inline/);
    const doc = page({ title: '<t>', auth: null, body: html`<p>x</p>` }).value;
    assert.match(doc, /<html lang="en">/);
    assert.match(doc, /<meta name="viewport" content="width=device-width, initial-scale=1">/);
    assert.match(doc, /<title>&lt;t&gt; · storehook<\/title>/);
    assert.doesNotMatch(doc, /<script/i);
  });
});

describe('dashboard times', () => {
  const summer = Date.UTC(2026, 6, 1, 9, 30, 0); // 12:30 in Helsinki (UTC+3)
  const winter = Date.UTC(2026, 0, 15, 9, 30, 0); // 11:30 in Helsinki (UTC+2)

  it('shows wall time in the store zone with its offset', () => {
    assert.equal(formatLocal(summer, 'Europe/Helsinki'), '2026-07-01 12:30:00 +03:00');
    assert.equal(formatLocal(winter, 'Europe/Helsinki'), '2026-01-15 11:30:00 +02:00');
    assert.equal(formatLocal(winter, 'America/New_York'), '2026-01-15 04:30:00 -05:00');
    assert.equal(formatLocal(winter, 'Asia/Kolkata'), '2026-01-15 15:00:00 +05:30');
    assert.equal(formatLocal(winter, 'UTC'), '2026-01-15 09:30:00 +00:00');
  });

  it('puts the UTC value in <time datetime> and the hover title', () => {
    const tag = timeTag(summer, 'Europe/Helsinki').value;
    assert.equal(tag, '<time datetime="2026-07-01T09:30:00.000Z" title="2026-07-01 09:30:00.000 UTC">2026-07-01 12:30:00 +03:00</time>');
    assert.match(timeTag(null, 'UTC').value, /—/);
  });

  it('reads a typed wall time in the store zone (the shown format, or with a T), and ISO input with its own offset', () => {
    assert.equal(parseLocalInput('2026-07-01T12:30', 'Europe/Helsinki'), summer);
    assert.equal(parseLocalInput('2026-07-01 12:30', 'Europe/Helsinki'), summer);
    assert.ok(new RegExp(`^(?:${LOCAL_INPUT_PATTERN})$`, 'v').test('2026-07-01 12:30'), 'the input pattern takes the shown format');
    assert.ok(!new RegExp(`^(?:${LOCAL_INPUT_PATTERN})$`, 'v').test('1.7.2026 12.30'), 'and refuses a locale format');
    assert.equal(parseLocalInput('2026-01-15T11:30:00', 'Europe/Helsinki'), winter);
    assert.equal(parseLocalInput('2026-01-15T09:30:00Z', 'Europe/Helsinki'), winter);
    assert.equal(parseLocalInput('2026-01-15T04:30', 'America/New_York'), winter);
    // The value a time input starts with: the format every page shows, to the minute.
    assert.equal(toLocalInput(summer, 'Europe/Helsinki'), '2026-07-01 12:30');
    assert.ok(formatLocal(summer, 'Europe/Helsinki').startsWith(toLocalInput(summer, 'Europe/Helsinki')));
    assert.equal(parseLocalInput('2026-02-30T10:00', 'UTC'), null);
    assert.equal(parseLocalInput('yesterday', 'UTC'), null);
    // Around the spring-forward gap (03:00 → 04:00 on 2026-03-29 in Helsinki) every input still maps somewhere sensible.
    const before = parseLocalInput('2026-03-29T02:59', 'Europe/Helsinki')!;
    const after = parseLocalInput('2026-03-29T04:00', 'Europe/Helsinki')!;
    assert.equal(after - before, 60_000);
  });

  it('formats durations for people', () => {
    assert.equal(formatDuration(850), '850 ms');
    assert.equal(formatDuration(2_400), '2.4 s');
    assert.equal(formatDuration(303_000), '5 min 3 s');
    assert.equal(formatDuration(3 * 3600_000 + 600_000), '3 h 10 min');
    assert.equal(formatDuration(2 * 86_400_000), '2 d');
  });
});
