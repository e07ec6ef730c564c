import { describe, expect, it } from '@jest/globals';
import { escapeHtml, html, raw } from './html.js';
import { attributes, field } from './layout.js';

describe('html tagged template', () => {
  it('escapes every interpolated string, in content and attributes', () => {
    const hostile = `"><img src=x onerror=alert(1)>'<script>\`&`;
    expect(html`<p title="${hostile}">${hostile}</p>`.value).toBe(
      '<p title="&quot;&gt;&lt;img src=x onerror=alert(1)&gt;&#39;&lt;script&gt;&#96;&amp;">' +
        '&quot;&gt;&lt;img src=x onerror=alert(1)&gt;&#39;&lt;script&gt;&#96;&amp;</p>',
    );
  });

  it('inserts nested html and raw() as they are, and escapes lists item by item', () => {
    const items = ['<a>', html`<b>${'<c>'}</b>`];
    expect(
      html`<ul>
        ${items.map((item) => html`<li>${item}</li>`)}
      </ul>`.value.replace(/>\s+</g, '><'),
    ).toBe('<ul><li>&lt;a&gt;</li><li><b>&lt;c&gt;</b></li></ul>');
    expect(html`${raw('<form id="op.logoutForm"></form>')}`.value).toBe(
      '<form id="op.logoutForm"></form>',
    );
  });

  it('renders nothing for false, null and undefined, and numbers as text', () => {
    expect(html`[${false}${null}${undefined}${0}${true}]`.value).toBe('[0true]');
  });

  it('only SafeHtml passes: a look-alike object is turned into text and escaped', () => {
    const lookalike = { value: '<script>', toString: () => '<script>' };
    expect(html`${lookalike as unknown as string}`.value).toBe('&lt;script&gt;');
    expect(escapeHtml('&amp;')).toBe('&amp;amp;');
  });
});

describe('labelled fields', () => {
  it('ties the label, hint and error to the input and escapes the value', () => {
    const rendered = field({
      name: 'displayName',
      label: 'Display name',
      value: '"><script>',
      hint: 'How applications greet you.',
      errors: { displayName: 'Too long <really>' },
    }).value.replace(/\s+/g, ' ');
    expect(rendered).toContain('<label for="field-displayName">Display name</label>');
    expect(rendered).toContain('<p class="hint" id="field-displayName-hint">');
    expect(rendered).toContain(
      '<p class="error" id="field-displayName-error">Too long &lt;really&gt;</p>',
    );
    expect(rendered).toContain(
      '<input id="field-displayName" name="displayName" type="text" value="&quot;&gt;&lt;script&gt;" ' +
        'aria-describedby="field-displayName-hint field-displayName-error" aria-invalid="true" />',
    );
  });

  it('writes boolean attributes bare and leaves absent ones out', () => {
    expect(attributes({ required: true, disabled: false, title: undefined, max: 3 }).value).toBe(
      ' required max="3"',
    );
  });
});
