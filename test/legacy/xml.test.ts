// The XML writer: whatever text or attribute value it is given, the document is well-formed and
// a strict parser reads back exactly the text minus the characters XML 1.0 forbids. When a
// python3 is on the machine, its expat parser checks the same documents independently.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { el, escapeAttr, escapeText, hasInvalidXmlChars, stripInvalidXmlChars, xmlDocument } from '../../src/legacy/xml.js';
import { parseXml } from '../helpers/xml-reader.js';

const python = (() => {
  const probe = spawnSync('python3', ['-c', 'import xml.etree.ElementTree'], { encoding: 'utf8' });
  return probe.status === 0;
})();

/** expat's verdict on a batch of documents: the indexes it refuses. */
function expatRefuses(documents: string[]): number[] {
  const script = 'import sys,json,xml.etree.ElementTree as E\nbad=[]\nfor i,d in enumerate(json.load(sys.stdin)):\n  try: E.fromstring(d.encode("utf-8"))\n  except Exception: bad.append(i)\nprint(json.dumps(bad))';
  const out = spawnSync('python3', ['-c', script], { input: JSON.stringify(documents), encoding: 'utf8' });
  assert.equal(out.status, 0, out.stderr);
  return JSON.parse(out.stdout) as number[];
}

// Lone surrogates and every C0 control, mixed with markup and ordinary text.
const nasty = fc.string({ unit: fc.oneof(fc.constantFrom('<', '>', '&', '"', "'", ']]>', '\r', '\n', '\t', '\r\n', '\u0000', '\u0008', '\u000B', '\u001F', '\u007F', '\u0085', '\uD800', '\uDFFF', '\uFFFE', '\uFFFF', '😀', 'ä', '&amp;', '&#0;'), fc.string({ unit: 'grapheme', maxLength: 3 }), fc.string({ unit: 'binary', maxLength: 2 })), maxLength: 40 });

describe('legacy XML writer', () => {
  it('escapes markup in text and attributes', () => {
    assert.equal(escapeText('a<b>&c"\'\r'), 'a&lt;b&gt;&amp;c"\'&#13;');
    assert.equal(escapeAttr('a<b>&c"\'\t\n\r'), 'a&lt;b&gt;&amp;c&quot;&apos;&#9;&#10;&#13;');
    assert.equal(xmlDocument(el('a', { x: 'y"z', gone: null, n: 3 }, 'x & y')), '<?xml version="1.0" encoding="UTF-8"?>\n<a x="y&quot;z" n="3">x &amp; y</a>\n');
    assert.equal(xmlDocument(el('a', {}, el('b'), null, false, el('c', {}, 'd'))), '<?xml version="1.0" encoding="UTF-8"?>\n<a>\n  <b/>\n  <c>d</c>\n</a>\n');
  });

  it('removes characters XML 1.0 forbids, keeps every other character', () => {
    assert.equal(stripInvalidXmlChars('a\u0000b\u0008c\u000Bd\u001Fe\uD800f\uDFFFg\uFFFEh\uFFFFi'), 'abcdefghi');
    assert.equal(stripInvalidXmlChars('\t\n\r \u007F\u0085\uD7FF\uE000\uFFFD😀'), '\t\n\r \u007F\u0085\uD7FF\uE000\uFFFD😀');
    assert.equal(hasInvalidXmlChars('ok\tä😀'), false);
    assert.equal(hasInvalidXmlChars('bad\u0001'), true);
    assert.equal(hasInvalidXmlChars('bad\uDC00'), true);
  });

  it('refuses names that are not XML names (they are constants; a typo must fail loudly)', () => {
    assert.throws(() => el('a b'));
    assert.throws(() => el('1a'));
    assert.throws(() => el('a', { 'x y': '1' }));
  });

  it('always writes a document a strict parser reads back exactly (property)', () => {
    const documents: string[] = [];
    fc.assert(
      fc.property(nasty, nasty, (text, attr) => {
        const doc = xmlDocument(el('root', { v: attr }, el('t', {}, text), el('u', { w: text })));
        const tree = parseXml(doc);
        assert.equal(tree.attrs['v'], stripInvalidXmlChars(attr));
        assert.equal(tree.children[0]!.text, stripInvalidXmlChars(text));
        assert.equal(tree.children[1]!.attrs['w'], stripInvalidXmlChars(text));
        documents.push(doc);
      }),
      { numRuns: 500 },
    );
    if (python) assert.deepEqual(expatRefuses(documents), [], 'expat refuses none of them');
  });

  it('the test parser itself refuses malformed XML (it is the oracle, so check it)', () => {
    for (const bad of ['<a>&</a>', '<a><b></a>', '<a x="<"/>', '<a>]]></a>', '<a>\u0001</a>', '<a>&#1;</a>', '<a x="1" x="2"/>', '<a/><b/>', '<a>&nbsp;</a>', '<a>', 'text']) {
      assert.throws(() => parseXml(bad), Error, bad);
    }
    if (python) assert.equal(expatRefuses(['<a>&</a>', '<a/>']).join(), '0');
  });
});
