/**
 * A small XML 1.0 writer for the legacy bridge. Everything it emits is well-formed whatever the
 * data holds: `& < >` (and quotes in attributes) are escaped, and characters XML 1.0 forbids
 * outright (C0 controls other than tab/LF/CR, lone surrogates, U+FFFE/U+FFFF) are removed, since
 * not even a character reference may carry them.
 *
 *   xmlDocument(el('Orders', { time_to: 1650000000 }, el('Order', {}, el('OrderNumber', {}, '23'))))
 */

// XML 1.0 §2.2 Char: #x9 | #xA | #xD | [#x20-#xD7FF] | [#xE000-#xFFFD] | [#x10000-#x10FFFF].
// With the `u` flag a lone surrogate is a code point in D800-DFFF, so it is matched (removed) too.
const NOT_XML_CHAR = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu;
const NAME = /^[A-Za-z_][A-Za-z0-9_.-]*$/;

/** Removes the characters XML 1.0 does not allow anywhere in a document. */
export function stripInvalidXmlChars(text: string): string {
  return text.replace(NOT_XML_CHAR, '');
}

/** True when `text` holds a character XML 1.0 forbids (for refusing input rather than storing it). */
export function hasInvalidXmlChars(text: string): boolean {
  NOT_XML_CHAR.lastIndex = 0;
  const found = NOT_XML_CHAR.test(text);
  NOT_XML_CHAR.lastIndex = 0;
  return found;
}

/** Character data: `&`, `<`, `>` escaped; CR kept as a reference (parsers fold a raw CR into LF). */
export function escapeText(text: string): string {
  return stripInvalidXmlChars(text).replace(/[&<>\r]/g, (c) => (c === '&' ? '&amp;' : c === '<' ? '&lt;' : c === '>' ? '&gt;' : '&#13;'));
}

/** An attribute value in double quotes: also `"` and `'`, and tab/LF/CR as references (parsers turn raw ones into spaces). */
export function escapeAttr(text: string): string {
  return stripInvalidXmlChars(text).replace(/[&<>"'\t\n\r]/g, (c) => {
    switch (c) {
      case '&': return '&amp;';
      case '<': return '&lt;';
      case '>': return '&gt;';
      case '"': return '&quot;';
      case "'": return '&apos;';
      case '\t': return '&#9;';
      case '\n': return '&#10;';
      default: return '&#13;';
    }
  });
}

export type AttrValue = string | number | boolean | null | undefined;

export interface XmlElement {
  name: string;
  attrs: [string, string][];
  children: XmlNode[];
}

export type XmlNode = XmlElement | string;

/**
 * An element. Attributes whose value is null/undefined are left out; children may be strings
 * (character data), elements, or null/undefined/false (left out).
 */
export function el(name: string, attrs: Record<string, AttrValue> = {}, ...children: (XmlNode | null | undefined | false)[]): XmlElement {
  if (!NAME.test(name)) throw new TypeError(`not an XML element name: ${JSON.stringify(name)}`);
  const list: [string, string][] = [];
  for (const [key, value] of Object.entries(attrs)) {
    if (!NAME.test(key)) throw new TypeError(`not an XML attribute name: ${JSON.stringify(key)}`);
    if (value === null || value === undefined) continue;
    list.push([key, String(value)]);
  }
  return { name, attrs: list, children: children.filter((c): c is XmlNode => c !== null && c !== undefined && c !== false) };
}

function openTag(e: XmlElement): string {
  return `<${e.name}${e.attrs.map(([k, v]) => ` ${k}="${escapeAttr(v)}"`).join('')}`;
}

function write(e: XmlElement, indent: string, out: string[]): void {
  const text = e.children.filter((c): c is string => typeof c === 'string').join('');
  const elements = e.children.filter((c): c is XmlElement => typeof c !== 'string');
  if (elements.length === 0) {
    const escaped = escapeText(text);
    out.push(escaped === '' ? `${indent}${openTag(e)}/>` : `${indent}${openTag(e)}>${escaped}</${e.name}>`);
    return;
  }
  if (text.trim() !== '') throw new TypeError(`<${e.name}> mixes text and elements; the legacy format never does`);
  out.push(`${indent}${openTag(e)}>`);
  for (const child of elements) write(child, `${indent}  `, out);
  out.push(`${indent}</${e.name}>`);
}

/** The whole document: XML declaration, the root element indented by two spaces per level, final newline. */
export function xmlDocument(root: XmlElement): string {
  const out = ['<?xml version="1.0" encoding="UTF-8"?>'];
  write(root, '', out);
  return `${out.join('\n')}\n`;
}
