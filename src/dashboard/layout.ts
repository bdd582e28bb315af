/**
 * The page frame: one small inline style sheet (allowed by its hash in the Content-Security-Policy,
 * which forbids every script), a skip link, the main navigation, the flash message, the page.
 */
import { createHash } from 'node:crypto';
import type { AuthContext } from '../api/auth.js';
import { html, trusted, type HtmlValue, type SafeHtml } from './html.js';
import type { Flash } from './sessions.js';

const CSS = `
:root{color-scheme:light dark;--fg:#1b1f24;--bg:#fff;--muted:#5b636d;--line:#d5d9de;--accent:#0b57d0;--ok:#146c2e;--bad:#b3261e;--warn:#8a5300;--soft:#f3f5f7}
@media (prefers-color-scheme:dark){:root{--fg:#e6e8eb;--bg:#15181c;--muted:#a2a9b1;--line:#353b42;--accent:#8ab4f8;--ok:#7bd88f;--bad:#ff8a80;--warn:#ffcc80;--soft:#1f2328}}
*{box-sizing:border-box}
body{margin:0;font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);background:var(--bg)}
a{color:var(--accent)}
.skip{position:absolute;left:-999px}.skip:focus{left:1rem;top:1rem;background:var(--bg);padding:.5rem;z-index:2}
header.top{border-bottom:1px solid var(--line);background:var(--soft)}
header.top .bar{max-width:72rem;margin:0 auto;padding:.5rem 1rem;display:flex;flex-wrap:wrap;gap:.5rem 1.5rem;align-items:center}
header.top .brand{font-weight:700;text-decoration:none;color:var(--fg)}
nav ul{list-style:none;margin:0;padding:0;display:flex;flex-wrap:wrap;gap:.25rem 1rem}
nav a[aria-current=page]{font-weight:700;text-decoration-thickness:3px}
header.top form{margin-left:auto}
main{max-width:72rem;margin:0 auto;padding:1rem}
h1{font-size:1.5rem;margin:.5rem 0 1rem;overflow-wrap:anywhere}h2{font-size:1.2rem;margin:1.75rem 0 .5rem}h3{font-size:1.05rem;margin:1.25rem 0 .5rem}
.muted{color:var(--muted)}
.scroll{overflow-x:auto;margin:.5rem 0}
table{border-collapse:collapse;width:100%;font-size:.95rem}
caption{text-align:left;padding:.25rem 0;font-size:.9rem}
th,td{text-align:left;padding:.35rem .6rem;border-bottom:1px solid var(--line);vertical-align:top}
th{font-weight:600;background:var(--soft)}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
@media (max-width:40rem){
table.stack thead{position:absolute;left:-9999px}
table.stack caption{display:block}
table.stack,table.stack tbody,table.stack tr,table.stack td,table.stack tbody th{display:block;width:100%}
table.stack tbody th{border:0;padding:.15rem 0;background:none}
table.stack.grid td{display:inline-block;width:auto;min-width:5.5rem;margin-right:.75rem}
table.stack tr{border:1px solid var(--line);border-radius:.4rem;margin:.5rem 0;padding:.3rem .6rem}
table.stack td,table.stack td.num{border:0;padding:.15rem 0;text-align:left}
table.stack td::before{content:attr(data-label);display:block;font-size:.8rem;font-weight:600;color:var(--muted)}
}
code,pre{font:.88rem/1.45 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
code{overflow-wrap:anywhere}
pre{background:var(--soft);border:1px solid var(--line);padding:.75rem;overflow:auto;max-height:32rem;white-space:pre-wrap;overflow-wrap:anywhere}
dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:.25rem 1rem;margin:.5rem 0}
dl.facts dt{font-weight:600}dl.facts dd{margin:0;overflow-wrap:anywhere}
@media (max-width:40rem){dl.facts{grid-template-columns:1fr}dl.facts dd{margin-bottom:.4rem}}
.status{display:inline-block;padding:0 .45rem;border-radius:.6rem;font-size:.85rem;font-weight:600;border:1px solid currentColor;white-space:nowrap}
.s-delivered,.s-active{color:var(--ok)}.s-failed,.s-disabled{color:var(--bad)}.s-retrying{color:var(--warn)}.s-pending,.s-held,.s-blocked{color:var(--muted)}
.flash{padding:.6rem .9rem;border-left:4px solid var(--accent);background:var(--soft);margin:0 0 1rem}
.flash.ok{border-color:var(--ok)}.flash.error{border-color:var(--bad)}
.problem{border:1px solid var(--bad);border-left-width:4px;padding:.6rem .9rem;margin:.75rem 0}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(14rem,1fr));gap:.75rem;margin:.5rem 0}
.card{border:1px solid var(--line);padding:.6rem .9rem;border-radius:.4rem}
.card .big{font-size:1.6rem;font-weight:700}
form.inline{display:inline}
.actions{display:flex;flex-wrap:wrap;gap:.5rem;align-items:center;margin:.75rem 0}
button,.button{font:inherit;padding:.4rem .9rem;border-radius:.35rem;border:1px solid var(--accent);background:var(--accent);color:var(--bg);cursor:pointer;text-decoration:none;display:inline-block}
button.secondary,.button.secondary{background:transparent;color:var(--accent)}
button.danger{background:var(--bad);border-color:var(--bad)}
label{font-weight:600;display:block;margin:.6rem 0 .2rem}
fieldset{border:1px solid var(--line);margin:.75rem 0;padding:.5rem .9rem}legend{font-weight:600}
fieldset label{font-weight:400;display:flex;gap:.5rem;align-items:baseline;margin:.25rem 0}
input[type=text],input[type=search],input[type=url],input[type=email],input[type=password],select{font:inherit;padding:.35rem .5rem;border:1px solid var(--line);border-radius:.3rem;background:var(--bg);color:var(--fg);max-width:100%}
input[type=url],input[type=email],input[type=password]{width:32rem}
input[size]{max-width:100%}
ol.timeline details>ol.timeline{margin-left:.25rem}
.filters{display:flex;flex-wrap:wrap;gap:.25rem 1rem;align-items:flex-end}
.filters label{margin:.2rem 0}
.hint{font-size:.9rem;color:var(--muted);margin:.2rem 0}
.errors{color:var(--bad)}
ol.timeline{list-style:none;padding:0;margin:.5rem 0;border-left:3px solid var(--line)}
ol.timeline>li{position:relative;padding:.25rem 0 .75rem 1rem}
ol.timeline h3{margin:0 0 .25rem}
ol.timeline>li::before{content:"";position:absolute;left:-.5rem;top:.6rem;width:.7rem;height:.7rem;border-radius:50%;background:var(--muted)}
ol.timeline>li.ok::before{background:var(--ok)}ol.timeline>li.bad::before{background:var(--bad)}ol.timeline>li.next::before{background:var(--bg);border:2px solid var(--warn)}
.pager{display:flex;gap:1rem;align-items:center;margin:.5rem 0}
`.trim();

/** The CSP entry that allows exactly this style sheet and nothing else inline. */
export const STYLE_HASH = `'sha256-${createHash('sha256').update(CSS, 'utf8').digest('base64')}'`;

export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  `style-src ${STYLE_HASH}`,
  "img-src 'self' data:",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join('; ');

export type Section = 'overview' | 'messages' | 'subscriptions' | 'topics' | 'orders' | 'none';

export interface PageOptions {
  title: string;
  /** the signed-in user, or null on the sign-in page. */
  auth: AuthContext | null;
  csrfToken?: string;
  section?: Section;
  flash?: Flash | null;
  /** shown above every page: the store's failing and automatically disabled subscriptions (health-banner.ts). */
  banner?: HtmlValue;
  body: HtmlValue;
}

const NAV: [Section, string, string][] = [
  ['overview', '/', 'Overview'],
  ['messages', '/messages', 'Messages'],
  ['subscriptions', '/subscriptions', 'Subscriptions'],
  ['topics', '/topics', 'Topics'],
  ['orders', '/orders', 'Orders'],
];

export function csrfField(token: string | undefined): SafeHtml {
  return html`<input type="hidden" name="_csrf" value="${token ?? ''}">`;
}

export function flashBox(flash: Flash | null | undefined): SafeHtml {
  if (!flash) return html``;
  return html`<div class="flash ${flash.kind}" role="${flash.kind === 'error' ? 'alert' : 'status'}">${flash.text}</div>`;
}

export function page(o: PageOptions): SafeHtml {
  const header = o.auth
    ? html`<header class="top"><div class="bar">
        <a class="brand" href="/">storehook</a>
        <nav aria-label="Main"><ul>${NAV.map(([key, href, label]) => html`<li><a href="${href}"${key === o.section ? trusted(' aria-current="page"') : ''}>${label}</a></li>`)}</ul></nav>
        <span class="muted">${o.auth.storeName} · ${o.auth.email}</span>
        <form method="post" action="/sign-out">${csrfField(o.csrfToken)}<button type="submit" class="secondary">Sign out</button></form>
      </div></header>`
    : html`<header class="top"><div class="bar"><span class="brand">storehook</span></div></header>`;
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${o.title} · storehook</title>
<link rel="icon" href="data:,">
<style>${trusted(CSS)}</style>
</head>
<body>
<a class="skip" href="#main">Skip to content</a>
${header}
<main id="main">
${o.banner ?? ''}
${flashBox(o.flash)}
${o.body}
</main>
</body>
</html>`;
}

/** `<span class="status s-failed">failed</span>`: the word is always there, colour only helps. */
export function statusBadge(kind: string, label: string = kind): SafeHtml {
  return html`<span class="status s-${kind.replace(/[^a-z]/g, '')}">${label}</span>`;
}
