/**
 * A strict XML 1.0 reader for the tests: it throws on anything a conforming parser rejects in the
 * subset the bridge could produce (bad characters, unescaped `<` or `&`, unknown entities, `]]>`
 * in text, mismatched or duplicate tags/attributes, content after the root), and returns the tree
 * with references decoded — what an old client's SimpleXML would see.
 */
export interface XmlTree {
  name: string;
  attrs: Record<string, string>;
  children: XmlTree[];
  /** the element's own character data, references decoded. */
  text: string;
}

const CHAR = /^[\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]*$/u;
const NAME = /^[A-Za-z_:][A-Za-z0-9_.:-]*/;
const ENTITIES: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

function validChar(cp: number): boolean {
  return cp === 0x9 || cp === 0xa || cp === 0xd || (cp >= 0x20 && cp <= 0xd7ff) || (cp >= 0xe000 && cp <= 0xfffd) || (cp >= 0x10000 && cp <= 0x10ffff);
}

export function parseXml(input: string): XmlTree {
  if (!CHAR.test(input)) throw new Error('document contains a character XML 1.0 forbids');
  const s = input.replace(/\r\n?/g, '\n');
  let i = 0;
  const fail = (why: string): never => {
    throw new Error(`not well-formed at ${i}: ${why} (…${JSON.stringify(s.slice(Math.max(0, i - 20), i + 20))}…)`);
  };
  const skipSpace = () => {
    while (i < s.length && /[ \t\n]/.test(s[i]!)) i++;
  };
  const name = (): string => {
    const m = NAME.exec(s.slice(i, i + 200));
    if (!m) fail('expected a name');
    i += m![0].length;
    return m![0];
  };
  const reference = (): string => {
    const end = s.indexOf(';', i);
    if (end < 0 || end - i > 12) fail('& that does not start a reference');
    const body = s.slice(i + 1, end);
    i = end + 1;
    if (body in ENTITIES) return ENTITIES[body]!;
    const m = /^#(?:(\d+)|x([0-9a-fA-F]+))$/.exec(body);
    if (!m) fail(`unknown entity &${body};`);
    const cp = m![1] !== undefined ? Number(m![1]) : parseInt(m![2]!, 16);
    if (!validChar(cp)) fail(`character reference &${body}; names a character XML forbids`);
    return String.fromCodePoint(cp);
  };
  const skipMisc = () => {
    for (;;) {
      skipSpace();
      if (s.startsWith('<!--', i)) {
        const end = s.indexOf('-->', i + 4);
        if (end < 0) fail('unclosed comment');
        if (s.slice(i + 4, end).includes('--')) fail('-- inside a comment');
        i = end + 3;
      } else if (s.startsWith('<?', i) && !s.startsWith('<?xml ', i)) {
        const end = s.indexOf('?>', i);
        if (end < 0) fail('unclosed processing instruction');
        i = end + 2;
      } else return;
    }
  };
  const element = (): XmlTree => {
    if (s[i] !== '<') fail('expected <');
    i++;
    const tag = name();
    const attrs: Record<string, string> = {};
    for (;;) {
      const before = i;
      skipSpace();
      if (s.startsWith('/>', i)) {
        i += 2;
        return { name: tag, attrs, children: [], text: '' };
      }
      if (s[i] === '>') {
        i++;
        break;
      }
      if (i === before) fail('expected whitespace before an attribute');
      const attr = name();
      if (attr in attrs) fail(`duplicate attribute ${attr}`);
      skipSpace();
      if (s[i] !== '=') fail('expected =');
      i++;
      skipSpace();
      const quote = s[i];
      if (quote !== '"' && quote !== "'") fail('attribute value must be quoted');
      i++;
      let value = '';
      while (s[i] !== quote) {
        if (i >= s.length) fail('unclosed attribute value');
        if (s[i] === '<') fail('< inside an attribute value');
        if (s[i] === '&') {
          value += reference();
        } else {
          value += /[\t\n]/.test(s[i]!) ? ' ' : s[i]!;
          i++;
        }
      }
      i++;
      attrs[attr] = value;
    }
    const children: XmlTree[] = [];
    let text = '';
    for (;;) {
      if (i >= s.length) fail(`unclosed <${tag}>`);
      if (s.startsWith('</', i)) {
        i += 2;
        const closing = name();
        if (closing !== tag) fail(`</${closing}> closes <${tag}>`);
        skipSpace();
        if (s[i] !== '>') fail('expected > after the closing tag');
        i++;
        return { name: tag, attrs, children, text };
      }
      if (s.startsWith('<![CDATA[', i)) {
        const end = s.indexOf(']]>', i);
        if (end < 0) fail('unclosed CDATA');
        text += s.slice(i + 9, end);
        i = end + 3;
      } else if (s.startsWith('<!--', i)) {
        const end = s.indexOf('-->', i + 4);
        if (end < 0) fail('unclosed comment');
        i = end + 3;
      } else if (s[i] === '<') {
        children.push(element());
      } else if (s[i] === '&') {
        text += reference();
      } else {
        if (s.startsWith(']]>', i)) fail(']]> in character data');
        text += s[i];
        i++;
      }
    }
  };

  if (s.startsWith('<?xml', i)) {
    const end = s.indexOf('?>', i);
    if (end < 0) fail('unclosed XML declaration');
    const decl = s.slice(i, end + 2);
    if (!/^<\?xml\s+version\s*=\s*(["'])1\.[0-9]+\1(\s+encoding\s*=\s*(["'])[A-Za-z][\w.-]*\3)?(\s+standalone\s*=\s*(["'])(yes|no)\5)?\s*\?>$/.test(decl)) fail('malformed XML declaration');
    i = end + 2;
  }
  skipMisc();
  const root = element();
  skipMisc();
  if (i !== s.length) fail('content after the root element');
  return root;
}

export function child(e: XmlTree, name: string): XmlTree {
  const found = e.children.find((c) => c.name === name);
  if (!found) throw new Error(`<${e.name}> has no <${name}>`);
  return found;
}

export function childrenNamed(e: XmlTree, name: string): XmlTree[] {
  return e.children.filter((c) => c.name === name);
}

/** `<a><b><c>x</c></b></a>`: textAt(a, 'b', 'c') → 'x'. */
export function textAt(e: XmlTree, ...path: string[]): string {
  let at = e;
  for (const p of path) at = child(at, p);
  return at.text;
}
